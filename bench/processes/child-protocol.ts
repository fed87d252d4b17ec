/**
 * The messages between the runner and its child processes (bureaus, one per
 * system) over Node's IPC channel. Plain JSON.
 */

/** Runner → child. */
export type ToChild = { readonly type: 'request'; readonly id: number; readonly name: string } | { readonly type: 'stop' };

/** Child → runner. */
export type FromChild =
  | { readonly type: 'ready'; readonly payload: unknown }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'reply'; readonly id: number; readonly payload: unknown };

/**
 * Runs a child's side of the protocol: starts, reports `ready` with what
 * `start` returns (or `failed`), answers requests with `handlers`, and on
 * `stop` (or when the runner goes away) closes and exits — exiting normally,
 * so that `--cpu-prof` writes its profile.
 *
 * @example
 * await serveChild(async () => ({ payload: { url }, close }), { counts: () => bureaus.counts() });
 */
export async function serveChild(
  start: () => Promise<{ readonly payload: unknown; close(): Promise<void> }>,
  handlers: Readonly<Record<string, () => unknown>> = {},
): Promise<void> {
  const send = (message: FromChild): void => {
    process.send?.(message);
  };
  let started: { readonly payload: unknown; close(): Promise<void> };
  try {
    started = await start();
  } catch (error) {
    send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  }
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await started.close().catch(() => {});
    process.exit(0);
  };
  process.on('message', (message: ToChild) => {
    if (message.type === 'stop') void stop();
    else if (message.type === 'request') {
      void Promise.resolve(handlers[message.name]?.()).then((payload) => send({ type: 'reply', id: message.id, payload: payload ?? null }));
    }
  });
  process.on('disconnect', () => void stop());
  send({ type: 'ready', payload: started.payload });
}

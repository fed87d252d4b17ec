import { setTimeout as sleep } from 'node:timers/promises';

/**
 * How long a test waits for something that must happen, unless it says
 * otherwise. A ceiling, not a goal: far above what anything takes on a busy
 * 2-core machine, so reaching it means "it did not happen", never "it was
 * slow". How fast things happen is measured in `bench/`.
 */
export const DEFAULT_WAIT_CEILING_MS = 20_000;
/** Pause between two probes: often enough to notice a change soon, rarely enough to leave the machine to the code under test. */
export const DEFAULT_POLL_INTERVAL_MS = 25;

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** What is awaited, for the failure message: "gateway B refuses the field". */
  readonly what: string;
  /** The ceiling (default {@link DEFAULT_WAIT_CEILING_MS}). */
  readonly timeoutMs?: number;
  /** Pause between probes (default {@link DEFAULT_POLL_INTERVAL_MS}). */
  readonly intervalMs?: number;
}

/**
 * Probes until `probe` returns something truthy, and returns that. Fails
 * with `what` and the last probe's value (or error) once `timeoutMs` has
 * passed. The probe gets a signal that aborts at the ceiling, so a probe
 * doing I/O cannot outlive the wait; a probe that throws is tried again, as
 * a condition that does not hold yet.
 *
 * @example
 * await waitFor(async (signal) => (await read(gatewayB, signal)).forbidden, { what: 'gateway B refuses the revoked field' });
 */
export async function waitFor<T>(probe: (signal: AbortSignal) => T | Promise<T>, options: WaitForOptions): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_CEILING_MS;
  const intervalMs = options.intervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const signal = AbortSignal.timeout(timeoutMs);
  let last: { readonly value: unknown } | { readonly error: unknown } = { value: undefined };
  let probes = 0;
  for (;;) {
    probes += 1;
    try {
      const value = await probe(signal);
      if (value) return value;
      last = { value };
    } catch (error) {
      last = { error };
    }
    if (signal.aborted) break;
    try {
      await sleep(intervalMs, undefined, { signal });
    } catch {
      break;
    }
  }
  const seen = 'error' in last ? `the last probe failed: ${shown(last.error)}` : `the last probe gave ${shown(last.value)}`;
  throw new Error(`${options.what}: did not happen within ${timeoutMs} ms (${probes} probes; ${seen})`, 'error' in last ? { cause: last.error } : undefined);
}

/**
 * Waits for `promise` to settle and passes its outcome on, failing with
 * `what` if it has not settled within `timeoutMs` (default
 * {@link DEFAULT_WAIT_CEILING_MS}): for an operation that must end by itself
 * (a timeout firing, a refusal), so that a hang fails with a message of its
 * own rather than the test runner's timeout.
 *
 * @example
 * const error = await settleWithin(verifier.verify(token).catch((error) => error), { what: 'verify against a hung JWKS' });
 */
export async function settleWithin<T>(promise: Promise<T>, options: Omit<WaitForOptions, 'intervalMs'>): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_CEILING_MS;
  const ceiling = new AbortController();
  const expired = sleep(timeoutMs, undefined, { signal: ceiling.signal }).then(
    () => Promise.reject(new Error(`${options.what}: did not settle within ${timeoutMs} ms`)),
    () => new Promise<never>(() => {}),
  );
  try {
    return await Promise.race([promise, expired]);
  } finally {
    ceiling.abort();
  }
}

function shown(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.length > 300 ? `${text.slice(0, 300)}…` : text;
  } catch {
    return String(value);
  }
}

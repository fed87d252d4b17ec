import { fork, type ChildProcess } from 'node:child_process';
import type { FromChild, ToChild } from './child-protocol.ts';

/** Options of {@link spawnBenchChild}. */
export interface SpawnBenchChildOptions {
  /** Prefixes the child's stderr lines, e.g. `isthmus`. */
  readonly name: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Node flags, e.g. `--cpu-prof`. */
  readonly execArgv?: readonly string[];
  /** How long the child may take to report `ready`. */
  readonly readyTimeoutMs: number;
  /** Show the child's stdout (logs) instead of discarding it. */
  readonly showStdout?: boolean;
}

/** A running child process of the bench. */
export interface BenchChild<Ready> {
  readonly pid: number;
  /** What the child reported when ready. */
  readonly ready: Ready;
  /** Undefined while it runs; how it ended once it has. */
  exited(): string | undefined;
  /** Asks the child for something (e.g. `counts`); bounded by 10 s. */
  request<T>(name: string): Promise<T>;
  /** Asks it to close and exit; kills it if it has not exited within 15 s. */
  stop(): Promise<void>;
}

const REQUEST_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 15_000;

/**
 * Forks `entry` (a `.ts` file run by this Node) with an IPC channel and
 * waits for its `ready` message. Its stdout is discarded unless asked — the
 * systems' request logs are part of their cost, not of our output — and its
 * stderr is shown.
 *
 * @throws Error with the child's message when it fails or exits before ready, or when it is not ready in time.
 */
export async function spawnBenchChild<Ready>(entry: string, args: readonly string[], options: SpawnBenchChildOptions): Promise<BenchChild<Ready>> {
  const child: ChildProcess = fork(entry, [...args], {
    env: { ...options.env },
    execArgv: [...(options.execArgv ?? [])],
    stdio: ['ignore', options.showStdout ? 'inherit' : 'ignore', 'pipe', 'ipc'],
  });
  // Several children share the terminal: each line says whose it is.
  let partial = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) process.stderr.write(`[${options.name}] ${line}\n`);
  });
  let ended: string | undefined;
  child.once('exit', (code, signal) => {
    ended = signal ? `killed by ${signal}` : `exited with code ${code}`;
  });
  const pending = new Map<number, (payload: unknown) => void>();
  let nextId = 1;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.name} was not ready within ${options.readyTimeoutMs} ms`));
    }, options.readyTimeoutMs);
    child.on('message', (message: FromChild) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message.payload as Ready);
      } else if (message.type === 'failed') {
        clearTimeout(timer);
        reject(new Error(`${options.name} failed to start:\n${message.message}`));
      } else if (message.type === 'reply') {
        pending.get(message.id)?.(message.payload);
        pending.delete(message.id);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited (${signal ?? code}) before it was ready`));
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${entry} has no pid`);

  return {
    pid,
    ready,
    exited: () => ended,
    request<T>(name: string): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`no reply to ${name} within ${REQUEST_TIMEOUT_MS} ms`));
        }, REQUEST_TIMEOUT_MS);
        pending.set(id, (payload) => {
          clearTimeout(timer);
          resolve(payload as T);
        });
        child.send({ type: 'request', id, name } satisfies ToChild);
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ type: 'stop' } satisfies ToChild);
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

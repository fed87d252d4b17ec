import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../gateway/main.ts', import.meta.url));
const CLI = fileURLToPath(new URL('../../gateway/cli/isthmus.ts', import.meta.url));

/** How long a spawned gateway may take to say it listens (a cold start on a 2-core machine takes 15–25 s). */
export const SPAWN_TIMEOUT_MS = 90_000;
/** Most log lines kept per spawned gateway: enough to explain a failure, bounded under load. */
const MAX_LINES = 2_000;

/** A gateway running as its own `node gateway/main.ts` process. */
export interface SpawnedGateway {
  readonly child: ChildProcess;
  readonly url: string;
  /** Its access log chain: the instance id it logged when it started listening. */
  readonly instanceId: string;
  /** Its last log lines (stdout JSON and stderr text), for failure messages. */
  readonly lines: readonly string[];
  /** Resolves with the exit code and signal once the process has exited. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
}

/**
 * Starts `node gateway/main.ts` (or, given `cli`, `node gateway/cli/isthmus.ts
 * <cli…>`, e.g. `['start', '--port', '5000']`) with `env` added to this
 * process's environment, and resolves once it logs `gateway listening`.
 * Rejects (and kills the process) if it exits first or takes longer than
 * {@link SPAWN_TIMEOUT_MS}.
 */
export async function spawnGateway(env: Record<string, string>, options: { readonly cli?: readonly string[] } = {}): Promise<SpawnedGateway> {
  const args = options.cli ? [CLI, ...options.cli] : [MAIN];
  const child = spawn(process.execPath, args, { env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > MAX_LINES) lines.splice(0, lines.length - MAX_LINES);
  };
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  let buffered = '';
  const listening = new Promise<{ url: string; instanceId: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start within ${SPAWN_TIMEOUT_MS} ms:\n${lines.join('\n')}`)), SPAWN_TIMEOUT_MS);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const line of parts) {
        keep(line);
        if (!line.includes('gateway listening')) continue;
        const entry = JSON.parse(line) as { msg?: string; url?: string; instanceId?: string };
        if (entry.msg === 'gateway listening' && entry.url && entry.instanceId) {
          clearTimeout(timer);
          resolve({ url: entry.url, instanceId: entry.instanceId });
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => keep(chunk.toString()));
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code ?? signal}) before listening:\n${lines.join('\n')}`));
    });
  });
  try {
    const { url, instanceId } = await listening;
    return { child, url, instanceId, lines, exited };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

/** Stops a spawned gateway with SIGTERM (graceful: final checkpoint) and waits, bounded, for it to exit. */
export async function stopGateway(gateway: SpawnedGateway, timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (gateway.child.exitCode !== null || gateway.child.signalCode !== null) return gateway.exited;
  gateway.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`gateway did not exit within ${timeoutMs} ms of SIGTERM`)), timeoutMs)));
  try {
    return await Promise.race([gateway.exited, deadline]);
  } catch (error) {
    gateway.child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** What `isthmus …` printed and how it exited. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node gateway/cli/isthmus.ts <args>` as its own process, with `env` added, killed after `timeoutMs`. */
export async function runIsthmusCli(args: readonly string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

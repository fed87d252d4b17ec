import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WITNESS_CLI = fileURLToPath(new URL('../../packages/isthmus-witness/src/cli.ts', import.meta.url));
/** A witness that is not listening by then will not be. */
const START_TIMEOUT_MS = 20_000;

/** A witness run as its own process, as an audit office would run it. */
export interface BenchWitness {
  readonly url: string;
  /** Its verifier key, for `ISTHMUS_WITNESSES`. */
  readonly verifierKey: string;
  close(): Promise<void>;
}

/**
 * Starts `isthmus-witness start` on a free loopback port, with a data
 * folder of its own, trusting `logKey` for origins under `originPrefix`,
 * and reads its verifier key from its published keys.
 *
 * @example
 * const witness = await startBenchWitness({ logKey, originPrefix: 'isthmus.demo-city/access-log' });
 */
export async function startBenchWitness(options: { readonly logKey: string; readonly originPrefix: string; readonly name?: string }): Promise<BenchWitness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'isthmus-bench-witness-'));
  const name = options.name ?? 'audit-office.bench';
  const child = spawn(process.execPath, [WITNESS_CLI, 'start', '--data', dataDir, '--name', name, '--log-key', options.logKey, '--origin-prefix', options.originPrefix, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('the bench witness did not start listening in time')), START_TIMEOUT_MS);
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /listening on (\S+) as/u.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the bench witness exited (${code}) before it listened`));
      });
    });
    const keys = (await (await fetch(`${url}/.well-known/isthmus-witness-keys`, { signal: AbortSignal.timeout(5_000) })).json()) as { keys: { vkey: string; current: boolean }[] };
    const current = keys.keys.find((key) => key.current);
    if (!current) throw new Error('the bench witness published no current key');
    return { url, verifierKey: current.vkey, close: stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

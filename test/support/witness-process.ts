import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseWitnessList, type WitnessConfig } from '../../gateway/access-log/witness-config.ts';

/** The witness CLI, run as the independent party would run it. */
const WITNESS_CLI = resolve(import.meta.dirname, '../../packages/isthmus-witness/src/cli.ts');

/** A witness running as its own process, with its own key and data dir. */
export interface WitnessProcess {
  readonly name: string;
  readonly vkey: string;
  readonly url: string;
  /** As `ISTHMUS_WITNESSES` would give it. */
  readonly config: WitnessConfig;
  readonly child: ChildProcess;
  /** Stops the process (SIGTERM, then SIGKILL after 5 s) and removes its data dir. */
  stop(): Promise<void>;
}

/**
 * Spawns `isthmus-witness start` with `process.execPath` (Node 24), trusting
 * `logKeys` for origins under `originPrefix`, on a free port; resolves once it
 * prints where it listens (within 20 s).
 */
export async function startWitnessProcess(options: { readonly name: string; readonly logKeys: readonly string[]; readonly originPrefix: string }): Promise<WitnessProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'isthmus-witness-'));
  const env = { PATH: process.env.PATH ?? '' };
  const key = spawnSync(process.execPath, [WITNESS_CLI, 'key', '--data', dataDir, '--name', options.name], { env, encoding: 'utf8', timeout: 20_000 });
  if (key.status !== 0) throw new Error(`isthmus-witness key failed: ${key.stderr}`);
  const vkey = key.stdout.trim();
  const args = [WITNESS_CLI, 'start', '--data', dataDir, '--name', options.name, '--origin-prefix', options.originPrefix, '--port', '0', ...options.logKeys.flatMap((k) => ['--log-key', k])];
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`the witness did not start within 20 s: ${stderr}`)), 20_000);
    const look = () => {
      const match = /listening on (http:\/\/[^\s]+)/u.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolvePromise(match[1]!);
      }
    };
    child.stdout!.on('data', look);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the witness exited with ${code}: ${stderr}`));
    });
  });
  const [config] = parseWitnessList(`${vkey}@${url}`);
  return {
    name: options.name,
    vkey,
    url,
    config: config!,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((done) => child.once('exit', done));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCK_FILE } from '../src/data-dir-lock.ts';
import { addCheckpoint, createTestLog, getJson, LOG_NAME, logKey, type CheckpointList } from './support/test-log.ts';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const WITNESS = 'market.demo-city';
const trustedKey = logKey();
const children: ChildProcess[] = [];
let dir: string;

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI as its own process; resolves with how it ended. */
function run(args: readonly string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; exit: Promise<Exit>; output: () => { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<Exit>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, exit, output: () => ({ stdout, stderr }) };
}

/** Starts `isthmus-witness start` on port 0 and waits for the line that names its URL. */
async function startProcess(): Promise<{ child: ChildProcess; url: string; exit: Promise<Exit> }> {
  const started = run(['start', '--data', dir, '--name', WITNESS, '--log-key', trustedKey.verifier.verifierKey, '--origin-prefix', LOG_NAME, '--port', '0']);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const match = /^isthmus-witness listening on (http:\/\/127\.0\.0\.1:\d+) as market\.demo-city$/mu.exec(started.output().stdout);
    if (match !== null) return { child: started.child, url: match[1]!, exit: started.exit };
    if (started.child.exitCode !== null || Date.now() > deadline) throw new Error(`the witness did not start: ${started.output().stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'isthmus-witness-process-'));
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('isthmus-witness as its own process', () => {
  it('keeps what it cosigned across a kill -9 and a restart, and closes cleanly on SIGTERM', async () => {
    const log = createTestLog('process-a1', trustedKey);
    const first = await startProcess();
    expect((await addCheckpoint(first.url, log.body(0, log.checkpoint()))).status).toBe(200);
    log.append(12);
    const twelve = log.checkpoint();
    const cosigned = await addCheckpoint(first.url, log.body(0, twelve));
    expect(cosigned.status).toBe(200);

    first.child.kill('SIGKILL');
    expect((await first.exit).signal).toBe('SIGKILL');
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true); // left behind by the killed process, taken over below

    const second = await startProcess();
    const latest = await getJson<CheckpointList>(`${second.url}/checkpoints`);
    expect(latest.body.checkpoints.map((c) => [c.origin, c.size])).toEqual([[log.origin, 12]]);
    expect(latest.body.checkpoints[0]!.note).toBe(`${twelve.note}${cosigned.text}`);
    // The witness still knows where the chain stands: a stale old is refused, the honest next one taken.
    log.append(3);
    const fifteen = log.checkpoint();
    expect(await addCheckpoint(second.url, log.body(0, fifteen))).toMatchObject({ status: 409, text: '12\n' });
    expect((await addCheckpoint(second.url, log.body(12, fifteen))).status).toBe(200);

    second.child.kill('SIGTERM');
    const exit = await second.exit;
    expect(exit.code).toBe(0);
    expect(exit.stderr).toMatch(/SIGTERM, closing/u);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('refuses a second process, and a rotation, on the data directory of a running one; `key` still prints its key', async () => {
    const first = await startProcess();
    const second = await run(['start', '--data', dir, '--name', WITNESS, '--log-key', trustedKey.verifier.verifierKey, '--origin-prefix', LOG_NAME, '--port', '0']).exit;
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/^isthmus-witness: DATA_DIR_LOCKED: witness process \d+ uses the data directory; stop it first\n$/u);
    const rotate = await run(['rotate-key', '--data', dir, '--name', WITNESS]).exit;
    expect(rotate).toMatchObject({ code: 1, stdout: '' });
    expect(rotate.stderr).toMatch(/DATA_DIR_LOCKED/u);
    const key = await run(['key', '--data', dir, '--name', WITNESS]).exit;
    expect(key.code).toBe(0);
    const published = await getJson<{ keys: { vkey: string; current: boolean }[] }>(`${first.url}/.well-known/isthmus-witness-keys`);
    expect(published.body.keys.find((k) => k.current)?.vkey).toBe(key.stdout.trim());
    first.child.kill('SIGINT');
    expect((await first.exit).code).toBe(0);
  });

  it('takes its flags from the environment, and prints its key with `key`, a new one with `rotate-key`', async () => {
    const env = { ISTHMUS_WITNESS_DATA: dir, ISTHMUS_WITNESS_NAME: WITNESS };
    const key = await run(['key'], env).exit;
    expect(key.code).toBe(0);
    const vkey = key.stdout.trim();
    expect(vkey).toMatch(/^market\.demo-city\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/u);
    const rotated = await run(['rotate-key', '--data', dir, '--name', WITNESS]).exit;
    expect(rotated.code).toBe(0);
    expect(rotated.stdout.trim()).not.toBe(vkey);
    expect((await run(['key'], env).exit).stdout.trim()).toBe(rotated.stdout.trim());

    const started = run(['start', '--port', '0'], { ...env, ISTHMUS_WITNESS_LOG_KEYS: trustedKey.verifier.verifierKey, ISTHMUS_WITNESS_ORIGIN_PREFIXES: `other-city/log, ${LOG_NAME}` });
    const deadline = Date.now() + 30_000;
    while (!/listening on/u.test(started.output().stdout) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    const url = /listening on (\S+) as/u.exec(started.output().stdout)![1]!;
    const keys = await getJson<{ keys: { vkey: string; current: boolean }[] }>(`${url}/.well-known/isthmus-witness-keys`);
    expect(keys.body.keys.map((k) => [k.vkey, k.current])).toEqual([
      [vkey, false],
      [rotated.stdout.trim(), true],
    ]);
    started.child.kill('SIGTERM');
    expect((await started.exit).code).toBe(0);
  });

  it('answers bad flags with one line and exit code 2', async () => {
    for (const args of [['start', '--bogus'], ['start', '--data', dir, '--name', WITNESS], ['frobnicate', '--data', dir, '--name', WITNESS], ['start', '--data', dir, '--name', WITNESS, '--log-key', 'x', '--origin-prefix', LOG_NAME, '--port', 'high']]) {
      const exit = await run(args).exit;
      expect(exit.code, args.join(' ')).toBe(2);
      expect(exit.stderr, args.join(' ')).toMatch(/^isthmus-witness: OPTIONS_INVALID: [^\n]+\n$/u);
    }
  });
});

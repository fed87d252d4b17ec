import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { acquireStoreLock, STORE_LOCK_FILE, type StoreLock } from './store-lock.ts';
import { StoreLockedError } from './store-error.ts';

const LOCK_MODULE = new URL('./store-lock.ts', import.meta.url).href;
const hasProc = existsSync('/proc/self/stat');
const root = mkdtempSync(join(tmpdir(), 'isthmus-store-lock-'));
const held: StoreLock[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const lock of held.splice(0)) await lock.release();
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirs = 0;
function freshDir(): string {
  const dir = join(root, `data-${(dirs += 1)}`);
  rmSync(dir, { recursive: true, force: true });
  return mkdtempSync(`${dir}-`);
}

async function take(dir: string): Promise<StoreLock> {
  const lock = await acquireStoreLock(dir);
  held.push(lock);
  return lock;
}

function lockFileOf(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, STORE_LOCK_FILE), 'utf8')) as Record<string, unknown>;
}

/** Replaces the lock file with a copy of `template` that another process would have left: its own token, fields overridden. */
function plantLock(dir: string, template: Record<string, unknown>, overrides: Record<string, unknown>): void {
  writeFileSync(join(dir, STORE_LOCK_FILE), JSON.stringify({ ...template, token: 'ab'.repeat(16), ...overrides }));
}

/** Leaves a lock as a process of this host would have, with the fields overridden (e.g. a dead pid). */
async function staleLockIn(dir: string, overrides: Record<string, unknown>): Promise<void> {
  const lock = await acquireStoreLock(dir);
  const template = lockFileOf(dir);
  await lock.release();
  plantLock(dir, template, overrides);
}

/** A pid that no process has: one that ran and has been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  const pid = child.pid!;
  await once(child, 'exit');
  return pid;
}

/** Starts a process that takes the lock and holds it until killed; resolves once it holds it. */
async function holderProcess(dir: string, extraArgs: readonly string[] = []): Promise<ChildProcess> {
  const script = `const { acquireStoreLock } = await import(${JSON.stringify(LOCK_MODULE)});
await acquireStoreLock(${JSON.stringify(dir)});
process.stdout.write('held\\n');
setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, '--', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('held')) resolve();
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`lock holder exited (${code}): ${output}`)));
  });
  return child;
}

describe('acquireStoreLock', () => {
  it('creates the lock file naming this process, refuses a second taker, and is taken again once released', async () => {
    const dir = freshDir();
    const lock = await take(dir);
    expect(lock.file).toBe(join(dir, STORE_LOCK_FILE));
    expect(lockFileOf(dir)).toMatchObject({ pid: process.pid, hostname: hostname() });

    const refused = await acquireStoreLock(dir).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(StoreLockedError);
    const error = refused as StoreLockedError;
    expect(error.code).toBe('STORE_LOCKED');
    expect(error.holder).toMatchObject({ pid: process.pid, hostname: hostname() });
    expect(error.message).toContain(dir);
    expect(error.message).toContain(`process ${process.pid}`);

    await lock.release();
    expect(existsSync(lock.file)).toBe(false);
    await take(dir);
    // Nothing but the lock is left in the folder: no temporary files.
    expect(readdirSync(dir)).toEqual([STORE_LOCK_FILE]);
  });

  it('names the URL the holder advertised', async () => {
    const dir = freshDir();
    const lock = await take(dir);
    await lock.advertise('http://127.0.0.1:4000');
    const error = (await acquireStoreLock(dir).catch((caught: unknown) => caught)) as StoreLockedError;
    expect(error.holder?.url).toBe('http://127.0.0.1:4000');
    expect(error.message).toContain('serving http://127.0.0.1:4000');
  });

  it('does not remove a lock it no longer owns', async () => {
    const dir = freshDir();
    const lock = await take(dir);
    plantLock(dir, lockFileOf(dir), {});
    await lock.release();
    expect(lockFileOf(dir).token).toBe('ab'.repeat(16));
  });

  it('refuses while another process holds it, naming that process, and takes over once it was killed', async () => {
    const dir = freshDir();
    const holder = await holderProcess(dir, ['start', '--token', 'sekrit-token-value', '--port', '5000']);
    const error = (await acquireStoreLock(dir).catch((caught: unknown) => caught)) as StoreLockedError;
    expect(error).toBeInstanceOf(StoreLockedError);
    expect(error.holder?.pid).toBe(holder.pid);
    expect(error.message).toContain(`process ${holder.pid}`);
    // The command is recorded, but not the value of a --token.
    expect(error.holder?.command).toContain('--port 5000');
    expect(readFileSync(join(dir, STORE_LOCK_FILE), 'utf8')).not.toContain('sekrit');

    holder.kill('SIGKILL');
    await once(holder, 'exit');
    const lock = await take(dir);
    expect(lockFileOf(dir).pid).toBe(process.pid);
    expect(lock.file).toBe(join(dir, STORE_LOCK_FILE));
  });

  it('takes over a lock whose pid no longer runs', async () => {
    const dir = freshDir();
    await staleLockIn(dir, { pid: await deadPid() });
    await take(dir);
    expect(lockFileOf(dir).pid).toBe(process.pid);
  });

  it.skipIf(!hasProc)('takes over a lock whose pid was reused by another process (it started at another time)', async () => {
    const dir = freshDir();
    await staleLockIn(dir, { pid: process.pid, processStart: '1' });
    await take(dir);
    expect(lockFileOf(dir)).toMatchObject({ pid: process.pid });
    expect(lockFileOf(dir).processStart).not.toBe('1');
  });

  it.skipIf(!existsSync('/proc/sys/kernel/random/boot_id'))('takes over a lock written before the machine rebooted', async () => {
    const dir = freshDir();
    await staleLockIn(dir, { pid: process.pid, bootId: '00000000-0000-0000-0000-000000000000' });
    await take(dir);
  });

  it('never takes over a lock of another host, nor a file that is not an Isthmus lock', async () => {
    const elsewhere = freshDir();
    await staleLockIn(elsewhere, { pid: await deadPid(), hostname: 'another-host.invalid' });
    const error = (await acquireStoreLock(elsewhere).catch((caught: unknown) => caught)) as StoreLockedError;
    expect(error.holder?.hostname).toBe('another-host.invalid');
    expect(error.message).toContain('on another-host.invalid');

    const foreign = freshDir();
    writeFileSync(join(foreign, STORE_LOCK_FILE), 'locked by hand\n');
    const refused = (await acquireStoreLock(foreign).catch((caught: unknown) => caught)) as StoreLockedError;
    expect(refused).toBeInstanceOf(StoreLockedError);
    expect(refused.holder).toBeUndefined();
    expect(refused.message).toMatch(/not an Isthmus lock file/);
    expect(readFileSync(join(foreign, STORE_LOCK_FILE), 'utf8')).toBe('locked by hand\n');
  });

  it('lets exactly one of many racing takers win a stale lock, in one process', async () => {
    const dir = freshDir();
    await staleLockIn(dir, { pid: await deadPid() });
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => acquireStoreLock(dir)));
    const won = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    held.push(...won);
    expect(won).toHaveLength(1);
    for (const outcome of outcomes) if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(StoreLockedError);
    expect(readdirSync(dir)).toEqual([STORE_LOCK_FILE]);
  });

  it('lets exactly one of several racing processes win a stale lock', async () => {
    const dir = freshDir();
    await staleLockIn(dir, { pid: await deadPid() });
    const script = `const { acquireStoreLock } = await import(${JSON.stringify(LOCK_MODULE)});
try { await acquireStoreLock(${JSON.stringify(dir)}); process.stdout.write('won'); setTimeout(() => {}, 3000); }
catch (error) { process.stdout.write(error.code ?? 'failed: ' + error.message); }`;
    const racers = Array.from({ length: 4 }, () => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      // A winner holds the lock a while, so that a loser judges a live holder, never a stale one.
      return new Promise<string>((resolve) => {
        const settle = () => resolve(output);
        child.stdout!.on('data', () => output && settle());
        child.once('exit', settle);
      });
    });
    const results = await Promise.all(racers);
    expect(results.filter((result) => result === 'won')).toHaveLength(1);
    expect(results.filter((result) => result === 'STORE_LOCKED')).toHaveLength(3);
  });
});

import { randomBytes } from 'node:crypto';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { basename, join } from 'node:path';
import { StoreLockedError, type StoreLockHolder } from './store-error.ts';

/** The lock file's name inside the data folder. PGlite ignores files it does not know. */
export const STORE_LOCK_FILE = 'isthmus.lock';
/** Tries at taking the lock when stale locks keep being replaced under us; each try is a few file operations. */
const MAX_ATTEMPTS = 8;
/** Pause between tries while another process is taking over the same stale lock. */
const RETRY_DELAY_MS = 25;
/** A breaker guards the takeover of a stale lock; its own stale breaker is broken the same way, this deep at most. */
const MAX_BREAK_DEPTH = 3;
/** Layout of the lock file; a file of another layout is not taken over. */
const LOCK_FILE_VERSION = 1;
/** Longest command line kept in the lock file. */
const MAX_COMMAND_LENGTH = 200;
/** Options whose value is never written down: it could be a bearer token. */
const SECRET_OPTIONS = /^--?(token|password|secret)$/i;

/** What a lock file holds. */
interface LockContent {
  readonly version: number;
  /** Random, per acquisition: names the owner, so nobody removes or replaces a lock they do not own. */
  readonly token: string;
  readonly pid: number;
  /**
   * When the process started (`/proc/<pid>/stat` field 22, in clock ticks
   * since boot), so a pid reused by another process is told apart. Null
   * where `/proc` is absent.
   */
  readonly processStart: string | null;
  /** `/proc/sys/kernel/random/boot_id`: after a reboot, no process of before is alive. */
  readonly bootId: string | null;
  readonly hostname: string;
  readonly command: string;
  readonly since: string;
  readonly url?: string;
}

/** An embedded store's lock, held by this process. */
export interface StoreLock {
  readonly dataDir: string;
  readonly file: string;
  /** Writes where this process serves into the lock, so a process it turns away can point there. */
  advertise(url: string, signal?: AbortSignal): Promise<void>;
  /** Removes the lock file, if it is still this lock's; safe to call twice. */
  release(): Promise<void>;
}

/**
 * Takes the lock of the embedded store in `dataDir` (which must exist), or
 * throws {@link StoreLockedError} naming the process that holds it.
 *
 * PGlite cannot guard its folder itself: PostgreSQL's own `postmaster.pid`
 * names the pid the WebAssembly build always has (-42), so a second process
 * takes the first one's file for a stale file of its own, overwrites it,
 * removes it when it closes — and meanwhile the two write over each other's
 * pages, losing commits. Hence a lock of our own, taken before PGlite opens.
 *
 * The file is written aside and hard-linked into place, so it appears
 * whole and only one of any number of racing processes creates it. A lock
 * whose process is gone — its pid no longer runs, the pid now belongs to a
 * process that started at another time, or the machine rebooted since — is
 * stale and taken over: the taker first wins a breaker file named after the
 * stale lock's token (again by hard link), checks under it that the stale
 * lock is still the one it judged, and only then removes it, so two takers
 * never both win. A lock of another host cannot be checked and is never
 * taken over. A lock file that is not Isthmus's is not touched either.
 *
 * @example
 * const lock = await acquireStoreLock('.isthmus/data');
 * try { … } finally { await lock.release(); }
 */
export async function acquireStoreLock(dataDir: string, options: { readonly signal?: AbortSignal } = {}): Promise<StoreLock> {
  const file = join(dataDir, STORE_LOCK_FILE);
  let content: LockContent = {
    version: LOCK_FILE_VERSION,
    token: randomBytes(16).toString('hex'),
    pid: process.pid,
    processStart: await processStartOf(process.pid),
    bootId: await currentBootId(),
    hostname: osHostname(),
    command: commandLine(process.argv),
    since: new Date().toISOString(),
  };
  await acquireFile(file, content, 0, options.signal, (holder, raw) => new StoreLockedError(dataDir, file, holder && holderOf(holder), raw));
  let released = false;
  return {
    dataDir,
    file,
    async advertise(url, signal) {
      if (released) return;
      content = { ...content, url };
      const aside = asideName(file);
      try {
        await writeFile(aside, serialize(content), { mode: 0o644, flag: 'wx', signal });
        // Ours still: only a stale lock is ever replaced, and this process is alive.
        if ((await readLock(file))?.token !== content.token) return;
        await rename(aside, file);
      } finally {
        await unlink(aside).catch(() => {});
      }
    },
    async release() {
      if (released) return;
      released = true;
      if ((await readLock(file).catch(() => undefined))?.token === content.token) await unlink(file).catch(() => {});
    },
  };
}

/**
 * Creates `file` with `content`, taking over a stale one. `refuse` builds
 * the error for a live holder (or, with `undefined`, a file that is not
 * ours; `message` then overrides the default wording).
 */
async function acquireFile(
  file: string,
  content: LockContent,
  depth: number,
  signal: AbortSignal | undefined,
  refuse: (holder: LockContent | undefined, message?: string) => Error,
): Promise<void> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    signal?.throwIfAborted();
    if (await createWhole(file, content, signal)) return;
    const existing = await readLock(file);
    // Released between our try and our read: try again.
    if (existing === undefined) continue;
    if (existing === null) throw refuse(undefined);
    if (!(await isStale(existing))) throw refuse(existing);
    if (depth >= MAX_BREAK_DEPTH) throw refuse(existing, `the lock ${file} is stale, but taking it over failed repeatedly; remove it if no process uses the folder`);
    const breaker = `${file}.break-${existing.token}`;
    try {
      await acquireFile(breaker, { ...content, token: randomBytes(16).toString('hex') }, depth + 1, signal, () => new BreakerHeld());
    } catch (error) {
      // Another live process is taking it over; it will most likely win. Look again shortly.
      if (!(error instanceof BreakerHeld)) throw error;
      await delay(RETRY_DELAY_MS, signal);
      continue;
    }
    try {
      // Under the breaker nobody else may remove the stale lock, and its dead owner cannot: if it is still there, it is ours to remove.
      if ((await readLock(file))?.token === existing.token) await unlink(file).catch(ignoreMissing);
    } finally {
      await unlink(breaker).catch(ignoreMissing);
    }
  }
  const last = await readLock(file);
  throw refuse(last ?? undefined, last ? undefined : `the lock ${file} kept changing while this process tried to take it; try again`);
}

/** Someone else holds the breaker of a stale lock. Internal: never leaves this module. */
class BreakerHeld extends Error {}

/** Writes the file aside and links it into place: true if created, false if a file is already there. */
async function createWhole(file: string, content: LockContent, signal: AbortSignal | undefined): Promise<boolean> {
  const aside = asideName(file);
  try {
    await writeFile(aside, serialize(content), { mode: 0o644, flag: 'wx', signal });
    await link(aside, file);
    return true;
  } catch (error) {
    if (isErrno(error, 'EEXIST')) return false;
    throw error;
  } finally {
    await unlink(aside).catch(() => {});
  }
}

/** The lock's content; undefined when there is no file, null when it is not an Isthmus lock of this layout. */
async function readLock(file: string): Promise<LockContent | null | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockContent>;
    const valid =
      parsed.version === LOCK_FILE_VERSION &&
      typeof parsed.token === 'string' &&
      /^[0-9a-f]{32}$/.test(parsed.token) &&
      Number.isSafeInteger(parsed.pid) &&
      // 0 and negative pids would signal process groups in the liveness check.
      parsed.pid! > 0 &&
      typeof parsed.hostname === 'string' &&
      typeof parsed.command === 'string' &&
      typeof parsed.since === 'string';
    return valid ? (parsed as LockContent) : null;
  } catch {
    return null;
  }
}

/** True when the lock's process is certainly gone; false when it runs, or when that cannot be told. */
async function isStale(lock: LockContent): Promise<boolean> {
  if (lock.hostname !== osHostname()) return false;
  const bootId = await currentBootId();
  if (lock.bootId !== null && bootId !== null && lock.bootId !== bootId) return true;
  let otherUser = false;
  try {
    process.kill(lock.pid, 0);
  } catch (error) {
    if (isErrno(error, 'ESRCH')) return true;
    // EPERM: it runs, as another user (whose /proc entry may be hidden from us).
    if (!isErrno(error, 'EPERM')) return false;
    otherUser = true;
  }
  if (lock.processStart === null) return false;
  const start = await processStartOf(lock.pid);
  // Null: it exited since we signalled it — unless /proc hides another user's processes.
  if (start === null) return !otherUser;
  // The pid runs but started at another time: it was reused.
  return start !== lock.processStart;
}

/** Field 22 of `/proc/<pid>/stat`; null when there is no such file (the process is gone, or no `/proc`). */
async function processStartOf(pid: number): Promise<string | null> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null;
}

async function currentBootId(): Promise<string | null> {
  try {
    return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim() || null;
  } catch {
    return null;
  }
}

/** `isthmus.ts start --port 5000`: the script's name and its arguments, option values that could be secrets left out. */
function commandLine(argv: readonly string[]): string {
  const words = [basename(argv[1] ?? argv[0] ?? 'node')];
  const rest = argv.slice(2);
  for (let index = 0; index < rest.length; index += 1) {
    const word = rest[index]!;
    const [flag] = word.split('=', 1);
    if (SECRET_OPTIONS.test(flag!)) {
      words.push(`${flag}=…`);
      if (!word.includes('=')) index += 1;
    } else {
      words.push(word);
    }
  }
  const line = words.join(' ');
  return line.length > MAX_COMMAND_LENGTH ? `${line.slice(0, MAX_COMMAND_LENGTH - 1)}…` : line;
}

function holderOf(lock: LockContent): StoreLockHolder {
  return { pid: lock.pid, hostname: lock.hostname, command: lock.command, since: lock.since, url: lock.url };
}

function serialize(content: LockContent): string {
  return `${JSON.stringify(content, null, 2)}\n`;
}

function asideName(file: string): string {
  return `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

function ignoreMissing(error: unknown): void {
  if (!isErrno(error, 'ENOENT')) throw error;
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

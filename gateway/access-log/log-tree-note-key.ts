import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateNoteKey, parseSignerKey, parseVerifierKey, type NoteSigner } from '../../packages/isthmus-log-proofs/src/index.ts';

/** The log's Ed25519 note key, under the keys folder: its own key, not the JWS checkpoint key. */
export const LOG_NOTE_KEY_FILE = 'access-log-note.key';
/** Beside it, every verifier key it has held, with when it was first used: what `/.well-known/isthmus-log-keys` publishes. */
export const LOG_NOTE_KEY_HISTORY_FILE = 'access-log-note-keys.json';
/** The log name (and the note key's name) when `ISTHMUS_LOG_NAME` is unset. */
export const DEFAULT_LOG_NAME = 'isthmus.demo-city/access-log';

/** One log note key, current or past. */
export interface LogNoteKeyRecord {
  readonly vkey: string;
  readonly current: boolean;
  /** ISO-8601 UTC. */
  readonly firstUsedAt: string;
}

/** The key that signs this gateway's checkpoints, and every key that signed before it. */
export interface LogNoteKey {
  readonly signer: NoteSigner;
  /** Current key first. */
  readonly history: readonly LogNoteKeyRecord[];
}

/** A key file or its history cannot be used; the message names the file, never the key. */
export class LogNoteKeyError extends Error {
  override readonly name = 'LogNoteKeyError';
  readonly code = 'LOG_NOTE_KEY_UNUSABLE';
}

/**
 * Opens the log's note key in `dir` (created 0600 on first use, named
 * `logName`), or a fresh in-memory key when `dir` is undefined. A key of
 * another name (the log was renamed) is replaced by a new one; the old one
 * stays in the history, so what it signed stays verifiable.
 *
 * @example
 * const { signer, history } = await openLogNoteKey({ dir: '.isthmus', logName: 'isthmus.demo-city/access-log' });
 */
export async function openLogNoteKey(options: { readonly dir: string | undefined; readonly logName: string; readonly now?: Date }): Promise<LogNoteKey> {
  const now = (options.now ?? new Date()).toISOString();
  if (options.dir === undefined) {
    const signer = parseSignerKey(generateNoteKey(options.logName).signerKey);
    return { signer, history: [{ vkey: signer.verifierKey, current: true, firstUsedAt: now }] };
  }
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  const file = join(options.dir, LOG_NOTE_KEY_FILE);
  let signer = await readKey(file);
  if (signer === undefined || signer.name !== options.logName) {
    const aside = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(aside, `${generateNoteKey(options.logName).signerKey}\n`, { mode: 0o600, flag: 'wx' });
      if (signer === undefined) await link(aside, file).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      else await rename(aside, file);
    } catch (error) {
      throw new LogNoteKeyError(`cannot create the log note key ${file} (${(error as NodeJS.ErrnoException).code ?? 'failed'})`, { cause: error });
    } finally {
      await unlink(aside).catch(() => {});
    }
    signer = await readKey(file);
    if (signer === undefined) throw new LogNoteKeyError(`the log note key ${file} vanished while it was being created`);
  }
  return { signer, history: await recordHistory(join(options.dir, LOG_NOTE_KEY_HISTORY_FILE), signer.verifierKey, now) };
}

async function readKey(file: string): Promise<NoteSigner | undefined> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LogNoteKeyError(`cannot read the log note key ${file} (${(error as NodeJS.ErrnoException).code ?? 'failed'})`);
  }
  try {
    const stat = await handle.stat();
    const uid = process.getuid?.();
    if (uid !== undefined && stat.uid !== uid && stat.uid !== 0) throw new LogNoteKeyError(`the log note key ${file} belongs to another user`);
    if ((stat.mode & 0o027) !== 0) throw new LogNoteKeyError(`the log note key ${file} is open to other users (mode ${(stat.mode & 0o777).toString(8)}); run: chmod 600 ${file}`);
    const text = (await handle.readFile({ encoding: 'utf8' })).trim();
    try {
      return parseSignerKey(text);
    } catch {
      // Not kept as cause: the text is a private key.
      throw new LogNoteKeyError(`the log note key ${file} is not a signer key; move it away to have a new one made`);
    }
  } finally {
    await handle.close();
  }
}

async function recordHistory(file: string, vkey: string, now: string): Promise<readonly LogNoteKeyRecord[]> {
  let recorded: { vkey: string; firstUsedAt: string }[] = [];
  try {
    const parsed = JSON.parse(await readFileSafe(file)) as { keys?: unknown };
    if (!Array.isArray(parsed.keys)) throw new Error('no keys');
    recorded = parsed.keys.map((key: { vkey?: unknown; firstUsedAt?: unknown }) => {
      if (typeof key.vkey !== 'string' || typeof key.firstUsedAt !== 'string') throw new Error('bad key');
      parseVerifierKey(key.vkey);
      return { vkey: key.vkey, firstUsedAt: key.firstUsedAt };
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new LogNoteKeyError(`the log key history ${file} is unreadable; restore it from a backup, or move it away to start a new history`);
  }
  if (!recorded.some((key) => key.vkey === vkey)) {
    recorded = [{ vkey, firstUsedAt: now }, ...recorded];
    const aside = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(aside, `${JSON.stringify({ keys: recorded }, null, 2)}\n`, { mode: 0o644, flag: 'wx' });
      await rename(aside, file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EROFS' && code !== 'EACCES' && code !== 'EPERM') throw new LogNoteKeyError(`cannot write the log key history ${file} (${code ?? 'failed'})`);
    } finally {
      await unlink(aside).catch(() => {});
    }
  }
  const current = recorded.find((key) => key.vkey === vkey)!;
  return [{ ...current, current: true }, ...recorded.filter((key) => key.vkey !== vkey).map((key) => ({ ...key, current: false }))];
}

async function readFileSafe(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const stat = await handle.stat();
    if ((stat.mode & 0o022) !== 0) throw new LogNoteKeyError(`the log key history ${file} is writable by other users`);
    return await handle.readFile({ encoding: 'utf8' });
  } finally {
    await handle.close();
  }
}

import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listRotatedKeyFiles, rotatedKeyFileName } from '../auth/rotated-key-files.ts';
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
 * `logName`), or a fresh in-memory key when `dir` is undefined.
 *
 * Rotation adds a file, never rewrites one (see `rotated-key-files.ts`): the
 * operator puts `access-log-note.2.key` (then `.3.key`, …) beside the first,
 * and the highest number signs from the next open (SIGHUP) on. A key of
 * another name (the log was renamed) is followed by a new numbered one; two
 * replicas doing that at once link the same number, and the loser reads the
 * winner's key. Every key of the folder, and every key its history file
 * records, stays in the history, current first, so what each one signed
 * stays verifiable; a key the history does not record yet is dated by its
 * file's modification time, which every replica reads alike, and written
 * down where the folder is writable.
 *
 * @example
 * const { signer, history } = await openLogNoteKey({ dir: '.isthmus', logName: 'isthmus.demo-city/access-log' });
 */
export async function openLogNoteKey(options: { readonly dir: string | undefined; readonly logName: string; readonly now?: Date }): Promise<LogNoteKey> {
  if (options.dir === undefined) {
    const signer = parseSignerKey(generateNoteKey(options.logName).signerKey);
    return { signer, history: [{ vkey: signer.verifierKey, current: true, firstUsedAt: (options.now ?? new Date()).toISOString() }] };
  }
  const dir = options.dir;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let keys = await readKeys(dir);
  if (keys.length === 0 || keys.at(-1)!.signer.name !== options.logName) {
    const number = (keys.at(-1)?.number ?? 0) + 1;
    const file = join(dir, rotatedKeyFileName(LOG_NOTE_KEY_FILE, number));
    const aside = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(aside, `${generateNoteKey(options.logName).signerKey}\n`, { mode: 0o600, flag: 'wx' });
      // Another replica that got there first made this number's key: it is the one to use.
      await link(aside, file).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
    } catch (error) {
      throw new LogNoteKeyError(`cannot create the log note key ${file} (${(error as NodeJS.ErrnoException).code ?? 'failed'})`, { cause: error });
    } finally {
      await unlink(aside).catch(() => {});
    }
    keys = await readKeys(dir);
    if (keys.at(-1)?.signer.name !== options.logName) throw new LogNoteKeyError(`the log note key ${file} vanished while it was being created, or is named after another log`);
  }
  const signer = keys.at(-1)!.signer;
  return { signer, history: await recordHistory(join(dir, LOG_NOTE_KEY_HISTORY_FILE), signer.verifierKey, keys) };
}

/**
 * The verifier keys of every note key file of the rotation in `dir`, oldest
 * first, reading only (nothing is created or written): with the history
 * file, what a verifier of this keys folder pins, so a key added to a
 * read-only folder, whose history could not be written, is pinned too.
 *
 * @throws LogNoteKeyError naming a key file that is unsafe or not a key.
 */
export async function readNoteVerifierKeys(dir: string): Promise<readonly string[]> {
  return (await readKeys(dir)).map((key) => key.signer.verifierKey);
}

/** One note key file of the folder. */
interface NoteKeyFile {
  readonly number: number;
  readonly signer: NoteSigner;
  /** ISO-8601 UTC: when the file was last written, the same for every replica that reads it. */
  readonly modifiedAt: string;
}

/** Every note key file of `dir`, oldest first; a file removed meanwhile is skipped. */
async function readKeys(dir: string): Promise<readonly NoteKeyFile[]> {
  const keys: NoteKeyFile[] = [];
  for (const { number, fileName } of await listRotatedKeyFiles(dir, LOG_NOTE_KEY_FILE)) {
    const read = await readKey(join(dir, fileName));
    if (read) keys.push({ number, ...read });
  }
  return keys;
}

async function readKey(file: string): Promise<{ readonly signer: NoteSigner; readonly modifiedAt: string } | undefined> {
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
      return { signer: parseSignerKey(text), modifiedAt: stat.mtime.toISOString() };
    } catch {
      // Not kept as cause: the text is a private key.
      throw new LogNoteKeyError(`the log note key ${file} is not a signer key; move it away to have a new one made`);
    }
  } finally {
    await handle.close();
  }
}

async function recordHistory(file: string, vkey: string, files: readonly NoteKeyFile[]): Promise<readonly LogNoteKeyRecord[]> {
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
  // Newest first, as the history lists them.
  const unrecorded = [...files].reverse().filter((key) => !recorded.some((record) => record.vkey === key.signer.verifierKey));
  if (unrecorded.length > 0) {
    recorded = [...unrecorded.map((key) => ({ vkey: key.signer.verifierKey, firstUsedAt: key.modifiedAt })), ...recorded];
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

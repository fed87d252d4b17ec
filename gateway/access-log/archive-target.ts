import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseVerifierKey, type NoteSigner, type NoteVerifier } from '../../packages/isthmus-log-proofs/src/index.ts';
import { ConfigError, type GatewayConfig } from '../config/config.ts';
import { AccessLogArchiveDirError } from './access-log-error.ts';
import { writeDurably } from './archive-month.ts';
import type { LogNoteKey } from './log-tree-note-key.ts';

/** Where retention writes months before it detaches them, and the key it signs them with. */
export interface ArchiveTarget {
  /** `ISTHMUS_LOG_ARCHIVE_DIR`. */
  readonly dir: string;
  /** The log note key. */
  readonly signer: NoteSigner;
  readonly logName: string;
  /** Keys an archive already there may be signed by (past log note keys); default the signer's own. */
  readonly verifiers?: readonly NoteVerifier[];
}

/**
 * The gateway's archive target, when `ISTHMUS_LOG_ARCHIVE_DIR` is set: the
 * folder checked (and created) before the gateway serves, since an archive
 * that cannot be written would keep old months attached; signed with the
 * log note key, an archive already there accepted under any of its past keys.
 *
 * @throws ConfigError naming the setting and the folder when it cannot be written.
 */
export async function openArchiveTarget(config: Pick<GatewayConfig, 'logArchiveDir' | 'logName'>, noteKey: LogNoteKey): Promise<ArchiveTarget | undefined> {
  const dir = config.logArchiveDir;
  if (dir === undefined) return undefined;
  try {
    await checkArchiveDir(dir);
  } catch (error) {
    if (error instanceof AccessLogArchiveDirError) throw new ConfigError([`ISTHMUS_LOG_ARCHIVE_DIR: ${error.message}`]);
    throw error;
  }
  return { dir, signer: noteKey.signer, logName: config.logName, verifiers: noteKey.history.map((key) => parseVerifierKey(key.vkey)) };
}

/**
 * Checks at start-up that retention will be able to write archives into
 * `dir`: it is created if missing (0750), and must be a writable folder.
 *
 * @throws AccessLogArchiveDirError naming the folder and why.
 */
export async function checkArchiveDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o750 });
    await access(dir, constants.W_OK | constants.X_OK);
    const probe = join(dir, `.probe.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    await writeDurably(probe, '');
    await rm(probe, { force: true });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new AccessLogArchiveDirError(dir, code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? `is not writable (${code})` : code === 'ENOTDIR' || code === 'EEXIST' ? 'is not a folder' : `cannot be used (${code ?? 'failed'})`, { cause });
  }
}


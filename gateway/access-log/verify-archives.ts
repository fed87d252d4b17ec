import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { NoteVerifier } from '../../packages/isthmus-log-proofs/src/index.ts';
import { AccessLogArchiveDirError } from './access-log-error.ts';
import { ARCHIVE_MONTH_PATTERN } from './archive-format.ts';
import { archiveProblem, type ArchiveProblem } from './archive-report.ts';
import { checkArchiveMonth, type ArchiveChainStates } from './archive-walk.ts';

export type { ArchiveProblem, ArchiveProblemKind } from './archive-report.ts';

/** Where a chain ends in the archives. */
export interface ArchivedChainTail {
  readonly chainId: string;
  readonly month: string;
  readonly lastSeq: number;
  readonly lastHash: string;
}

/** Seqs of a chain that are archived and still in the database, the same entries in both: a month retention archived and has not yet detached. */
export interface PendingDetach {
  readonly chainId: string;
  readonly month: string;
  readonly fromSeq: number;
  readonly toSeq: number;
}

/** What `verifyArchives` found. */
export interface ArchiveVerification {
  readonly dir: string;
  /** The month folders read, oldest first. */
  readonly months: readonly string[];
  readonly entries: number;
  /** Empty when every archive is intact and they chain without a hole. */
  readonly problems: readonly ArchiveProblem[];
  /** By chain id. */
  readonly chains: readonly ArchivedChainTail[];
  /** `none`: no log keys were given, so no signature was checked. */
  readonly keySource: 'pinned' | 'none';
  /** Filled by `compareArchivesWithDatabase`; empty offline. */
  readonly pendingDetach: readonly PendingDetach[];
}

export interface VerifyArchivesOptions {
  /** The log note keys, current and past, pinned from outside (as `log verify --log-keys`). */
  readonly logKeys?: readonly NoteVerifier[];
  readonly signal?: AbortSignal;
}

/**
 * Verifies, offline, every month's archive under `dir` (`<dir>/<yyyy-mm>/`),
 * oldest first: each one as `checkArchiveMonth` does, carrying every chain's
 * last seq, hash and Merkle frontier from one month into the next, so seq
 * continuity and prev-hash links are checked across months as within them;
 * and the chain of archives: each manifest names the previous month's
 * manifest digest, the first names none. What it cannot see offline is a
 * last month removed: `compareArchivesWithDatabase` finds that.
 *
 * @throws AccessLogArchiveDirError when `dir` cannot be read.
 * @example
 * const result = await verifyArchives('/var/lib/isthmus/archives', { logKeys: pinned.keys });
 * if (result.problems.length > 0) process.exitCode = 1;
 */
export async function verifyArchives(dir: string, options: VerifyArchivesOptions = {}): Promise<ArchiveVerification> {
  const verifiers = options.logKeys ?? [];
  const months = await listArchiveMonths(dir);
  const states: ArchiveChainStates = new Map();
  const problems: ArchiveProblem[] = [];
  let entries = 0;
  let previous: { month: string; manifestSha256: string | undefined } | undefined;
  for (const month of months) {
    options.signal?.throwIfAborted();
    const check = await checkArchiveMonth(join(dir, month), month, { verifiers, states, ...(options.signal && { signal: options.signal }) });
    entries += check.entries;
    problems.push(...check.problems);
    const named = check.manifest?.previous;
    if (check.manifest && previous === undefined && named) {
      problems.push(archiveProblem('ARCHIVE_MISSING', named.month, { detail: `the archive of ${month} follows the archive of ${named.month}, which is not in ${dir}` }));
    } else if (check.manifest && previous !== undefined) {
      if (!named) problems.push(archiveProblem('ARCHIVE_EDITED', month, { detail: `the archive of ${month} names no previous archive, but the archive of ${previous.month} precedes it` }));
      else if (named.month > previous.month) problems.push(archiveProblem('ARCHIVE_MISSING', named.month, { detail: `the archive of ${month} follows the archive of ${named.month}, which is not in ${dir}` }));
      else if (named.month < previous.month) problems.push(archiveProblem('ARCHIVE_EDITED', previous.month, { detail: `the archive of ${month} follows the archive of ${named.month}: the archive of ${previous.month} is not in the chain of archives` }));
      else if (previous.manifestSha256 !== undefined && named.manifestSha256 !== previous.manifestSha256) {
        problems.push(archiveProblem('ARCHIVE_EDITED', previous.month, { detail: `the archive of ${previous.month} is not the one the archive of ${month} follows (its manifest's SHA-256 differs): it was replaced` }));
      }
    }
    previous = { month, manifestSha256: check.manifestSha256 };
  }
  const chains = [...states].map(([chainId, state]) => ({ chainId, month: state.month, lastSeq: state.lastSeq, lastHash: state.lastHash })).sort((a, b) => (a.chainId < b.chainId ? -1 : a.chainId > b.chainId ? 1 : 0));
  return { dir, months, entries, problems, chains, keySource: verifiers.length > 0 ? 'pinned' : 'none', pendingDetach: [] };
}

/** The month folders under `dir` (`2025-03`), oldest first; temporary folders (`.2025-03.….tmp`) and anything else left out. */
export async function listArchiveMonths(dir: string): Promise<readonly string[]> {
  try {
    const found = await readdir(dir, { withFileTypes: true });
    return found.filter((entry) => entry.isDirectory() && ARCHIVE_MONTH_PATTERN.test(entry.name)).map((entry) => entry.name).sort();
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new AccessLogArchiveDirError(dir, code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a folder' : `cannot be read (${code ?? 'failed'})`, { cause });
  }
}

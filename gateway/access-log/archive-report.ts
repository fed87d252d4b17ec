/**
 * What `verifyArchives` found, each problem naming the month (and the chain
 * and seq) to look at:
 *
 * - `ARCHIVE_UNREADABLE`: a month's folder lacks its manifest or entries
 *   file, or one of them does not parse (not JSON, not gzip).
 * - `ARCHIVE_SIGNATURE`: `manifest.sig` is missing, is not a signed note for
 *   this month and log, is signed by no pinned log key, or its signature does
 *   not verify.
 * - `ARCHIVE_EDITED`: the archive differs from what was signed: the manifest
 *   after its signature, the entries file from the manifest's digest, an
 *   entry from its hash or from the link to the one before (within the month
 *   or across months), an entry missing or repeated inside a month, the "who
 *   read me" rows from the entry's subjects, the manifest's chain heads or
 *   frontier from the entries; or the database's record of a detached month
 *   differs from its archive.
 * - `ARCHIVE_MISSING`: the chain of archives has a hole: a manifest names a
 *   previous month that is not in the folder (a month's archive was removed).
 * - `ARCHIVE_GAP`: seqs of a chain are in no archive and not in the
 *   database: between two months' archives, before a chain's first archive,
 *   or detached after the last archive.
 * - `ARCHIVE_OVERLAP`: a seq is in two archives, or in an archive and in the
 *   database with other content. (The same entries in both, a month archived
 *   and not yet detached, is not a problem: see `pendingDetach`.)
 */
export type ArchiveProblemKind = 'ARCHIVE_UNREADABLE' | 'ARCHIVE_SIGNATURE' | 'ARCHIVE_EDITED' | 'ARCHIVE_MISSING' | 'ARCHIVE_GAP' | 'ARCHIVE_OVERLAP';

/** One thing wrong with the archives, in one line without personal data. */
export interface ArchiveProblem {
  readonly kind: ArchiveProblemKind;
  /** The month's folder (`2025-03`). */
  readonly month: string;
  /** The chain; empty when the whole archive is meant. */
  readonly chainId: string;
  /** The seq to look at; 0 when the whole archive (or chain) is meant. */
  readonly seq: number;
  readonly entryId: string | null;
  readonly detail: string;
}

/** A problem, the fields callers most often leave out filled in. */
export function archiveProblem(kind: ArchiveProblemKind, month: string, fields: { chainId?: string; seq?: number; entryId?: string | null; detail: string }): ArchiveProblem {
  return { kind, month, chainId: fields.chainId ?? '', seq: fields.seq ?? 0, entryId: fields.entryId ?? null, detail: fields.detail };
}

import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import type { Selectable } from 'kysely';
import type { AccessLogTable } from './access-log-tables.ts';
import { recordFromRow, rowJson, type AccessLogRecord } from './access-log-record.ts';
import type { JsonValue } from './canonical-json.ts';

/**
 * The layout of one month's access log archive, as retention writes it and
 * `isthmus log verify --archive` reads it:
 *
 * ```
 * <dir>/<yyyy-mm>/entries.jsonl.gz   every entry of the month in (chain, seq) order, one JSON line each
 * <dir>/<yyyy-mm>/manifest.json      what the month holds: per chain its first and last seq and hashes,
 *                                    the Merkle frontier at its last seq; the entries file's digest;
 *                                    the previous archive's manifest digest
 * <dir>/<yyyy-mm>/manifest.sig       a C2SP signed note by the log note key over the manifest's digest
 * ```
 *
 * Archives chain like X-Road's: each manifest names the digest of the one
 * before it, so a month taken out of the middle shows.
 */
export const ARCHIVE_FORMAT = 'isthmus-access-log-archive/1';
export const ARCHIVE_ENTRIES_FILE = 'entries.jsonl.gz';
export const ARCHIVE_MANIFEST_FILE = 'manifest.json';
export const ARCHIVE_SIGNATURE_FILE = 'manifest.sig';
/** The first line of the signed note's text: what the signature is about. */
export const ARCHIVE_NOTE_HEADER = 'isthmus access-log archive';
/** A month folder's name. */
export const ARCHIVE_MONTH_PATTERN = /^\d{4}-(0[1-9]|1[0-2])$/u;

/** One chain's part of a month. */
export interface ArchiveChainHead {
  readonly chainId: string;
  readonly firstSeq: number;
  /** The first entry's `prev_hash`: the last hash of the chain's previous month. */
  readonly firstPrevHash: string;
  readonly lastSeq: number;
  readonly lastHash: string;
  readonly entries: number;
  /** The chain's Merkle frontier at `lastSeq` (hex, `frontierRefs(lastSeq)` order), as the detachment records it; null when none could be recorded. */
  readonly frontier: readonly string[] | null;
}

/** `manifest.json`. */
export interface ArchiveManifest {
  readonly format: typeof ARCHIVE_FORMAT;
  readonly logName: string;
  /** `yyyy-mm` (UTC): the partition's month. */
  readonly month: string;
  /** The partition's bounds, ISO-8601 UTC, `from` inclusive. */
  readonly from: string;
  readonly until: string;
  /** Hex SHA-256 of the entries file's bytes (compressed, as written). */
  readonly entriesSha256: string;
  readonly entryCount: number;
  /** Rows of the "who read me" index written with the entries. */
  readonly subjectCount: number;
  /** The archive before this one: its month and the SHA-256 of its `manifest.json`; null for the first. */
  readonly previous: { readonly month: string; readonly manifestSha256: string } | null;
  /** By chain id. */
  readonly chains: readonly ArchiveChainHead[];
  readonly createdAt: string;
}

/** One line of the entries file: the entry's columns as the writer stored them, and its "who read me" rows. */
export interface ArchiveLine {
  readonly entry: { readonly [column: string]: JsonValue | undefined };
  readonly subjects: readonly { readonly kind: string; readonly id: string }[];
}

/** Hex SHA-256. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A pass-through stream that hashes (SHA-256) what goes through it: the entries file's digest, as it is written or read. */
export function sha256Stream(): { readonly stream: Transform; hex(): string } {
  const hash = createHash('sha256');
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  return { stream, hex: () => hash.digest('hex') };
}

/** The text the log note key signs for a manifest: header, log name, month, the manifest's digest. */
export function archiveNoteText(logName: string, month: string, manifestSha256: string): string {
  return `${ARCHIVE_NOTE_HEADER}\n${logName}\n${month}\n${manifestSha256}\n`;
}

/** The manifest's bytes as written (stable key order, one trailing newline). */
export function manifestBytes(manifest: ArchiveManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** An entry's line. */
export function archiveLineOf(record: AccessLogRecord, subjects: readonly { readonly kind: string; readonly id: string }[]): string {
  return JSON.stringify({ entry: rowJson(record), subjects } satisfies ArchiveLine);
}

/**
 * A line back as the record it holds, values untouched (as `recordFromRow`
 * gives them), so that hashing it again tells whether it was changed.
 * Undefined when the line is not an archive line at all.
 */
export function recordOfLine(text: string): { readonly record: AccessLogRecord; readonly subjects: readonly { readonly kind: string; readonly id: string }[] } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const line = parsed as Partial<ArchiveLine> | null;
  const entry = line?.entry as Record<string, unknown> | undefined;
  if (!entry || typeof entry !== 'object' || !Array.isArray(line?.subjects)) return undefined;
  if (typeof entry.id !== 'string' || typeof entry.chain_id !== 'string' || !Number.isSafeInteger(entry.seq) || typeof entry.occurred_at !== 'string') return undefined;
  const occurredAt = new Date(entry.occurred_at);
  const hiddenUntil = typeof entry.hidden_until === 'string' ? new Date(entry.hidden_until) : null;
  if (Number.isNaN(occurredAt.getTime()) || (hiddenUntil !== null && Number.isNaN(hiddenUntil.getTime()))) return undefined;
  const row = { ...entry, occurred_at: occurredAt, hidden_until: hiddenUntil } as unknown as Selectable<AccessLogTable>;
  const subjects = line!.subjects!.map((subject) => ({ kind: String((subject as { kind?: unknown })?.kind), id: String((subject as { id?: unknown })?.id) }));
  return { record: recordFromRow(row), subjects };
}

/** The partition bounds' month label: `2025-03` for [2025-03-01, 2025-04-01). */
export function monthLabel(from: Date): string {
  return from.toISOString().slice(0, 7);
}

import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { createMerkleFrontier, hashLeaf, parseNote, verifyNote, type MerkleFrontier, type NoteVerifier } from '../../packages/isthmus-log-proofs/src/index.ts';
import { GENESIS_HASH, hashAccessLogRecord } from './access-log-record.ts';
import { sameSubjects, subjectKey } from './verify-subject-index.ts';
import { frontierFromJson, frontierToJson } from './verify-walk-start.ts';
import { archiveProblem, type ArchiveProblem, type ArchiveProblemKind } from './archive-report.ts';
import {
  ARCHIVE_ENTRIES_FILE,
  ARCHIVE_FORMAT,
  ARCHIVE_MANIFEST_FILE,
  ARCHIVE_NOTE_HEADER,
  ARCHIVE_SIGNATURE_FILE,
  recordOfLine,
  sha256Hex,
  sha256Stream,
  type ArchiveChainHead,
  type ArchiveManifest,
} from './archive-format.ts';

/** Where a chain stands after the archives (or the database) read so far. */
export interface ArchiveChainState {
  /** The month its last entry came from; `''` when the state came from the database. */
  readonly month: string;
  readonly lastSeq: number;
  readonly lastHash: string;
  /** Its tree at `lastSeq`; undefined when it cannot be rebuilt (a gap, or nothing recorded). */
  readonly frontier: MerkleFrontier | undefined;
}

/** Per chain id; `checkArchiveMonth` moves it on past the month it reads. */
export type ArchiveChainStates = Map<string, ArchiveChainState>;

export interface CheckArchiveMonthOptions {
  /** The log note keys to check `manifest.sig` with; none: the signature is not checked. */
  readonly verifiers: readonly NoteVerifier[];
  /** Where each chain stood before this month: after the earlier archives, or as the database recorded it. */
  readonly states: ArchiveChainStates;
  readonly signal?: AbortSignal;
}

export interface ArchiveMonthCheck {
  readonly month: string;
  /** Undefined when `manifest.json` is missing or unreadable. */
  readonly manifest: ArchiveManifest | undefined;
  /** SHA-256 of `manifest.json`'s bytes: what the next month's manifest names. */
  readonly manifestSha256: string | undefined;
  readonly entries: number;
  readonly problems: readonly ArchiveProblem[];
}

/** Problems reported per month and kind at most (a rewritten month would otherwise list every entry). */
const MAX_PROBLEMS_PER_KIND = 20;

/**
 * Checks one month's archive in `folder` (named `month`): the manifest's
 * signature by a pinned key and its digest, the entries file against the
 * manifest's digest, every entry's hash recomputed and its link to the entry
 * before it — the chain's previous entry in this month, or where `states`
 * says the chain stood (an earlier month) — with no seq missing or repeated,
 * each entry's "who read me" rows against its subjects, and the manifest's
 * chain heads and Merkle frontiers against the entries (the frontier
 * rebuilt from the chain's state). Reads the entries file as a stream: memory
 * stays bounded by a chunk and the chains' frontiers.
 *
 * @example
 * const states: ArchiveChainStates = new Map();
 * for (const month of months) problems.push(...(await checkArchiveMonth(join(dir, month), month, { verifiers, states })).problems);
 */
export async function checkArchiveMonth(folder: string, month: string, options: CheckArchiveMonthOptions): Promise<ArchiveMonthCheck> {
  options.signal?.throwIfAborted();
  const problems: ArchiveProblem[] = [];
  const perKind = new Map<ArchiveProblemKind, number>();
  const report = (kind: ArchiveProblemKind, fields: Parameters<typeof archiveProblem>[2]) => {
    const n = perKind.get(kind) ?? 0;
    perKind.set(kind, n + 1);
    if (n < MAX_PROBLEMS_PER_KIND) problems.push(archiveProblem(kind, month, fields));
  };

  const { manifest, manifestSha256 } = await readManifest(folder, month, report);
  if (manifest && manifestSha256) await checkSignature(folder, month, manifestSha256, options.verifiers, report);

  const { states } = options;
  const [year, monthNumber] = month.split('-').map(Number) as [number, number];
  const from = Date.UTC(year, monthNumber - 1, 1);
  const until = Date.UTC(year, monthNumber, 1);
  const observed = new Map<string, { firstSeq: number; firstPrevHash: string; lastSeq: number; lastHash: string; entries: number }>();
  let entries = 0;
  let subjects = 0;
  let lineNumber = 0;
  /** Seq whose entry was already blamed, per chain: its successor's broken link is then no news. */
  const blamed = new Map<string, number>();

  const onLine = (text: string) => {
    lineNumber += 1;
    if (text === '') return;
    const parsed = recordOfLine(text);
    if (!parsed) {
      report('ARCHIVE_EDITED', { detail: `line ${lineNumber} of ${ARCHIVE_ENTRIES_FILE} is not an archived entry` });
      return;
    }
    const { record } = parsed;
    const { chainId, seq } = record;
    entries += 1;
    subjects += parsed.subjects.length;
    const at = { chainId, seq, entryId: record.id };
    const occurred = record.entry.occurredAt.getTime();
    if (occurred < from || occurred >= until) report('ARCHIVE_EDITED', { ...at, detail: `entry ${record.id} (seq ${seq}) occurred at ${record.entry.occurredAt.toISOString()}, outside ${month}: the entries file is another month's` });
    let selfOk: boolean;
    try {
      selfOk = hashAccessLogRecord(record) === record.hash;
    } catch {
      selfOk = false;
    }
    const before = states.get(chainId);
    let frontier = before?.frontier;
    if (before === undefined) {
      // A chain this series has not seen: it must start here, at seq 1, from the genesis hash.
      if (seq > 1) report('ARCHIVE_GAP', { ...at, seq: 1, detail: `entries 1–${seq - 1} of chain ${chainId} are in no archive: its first archived entry, ${record.id}, is seq ${seq}` });
      else if (record.prevHash !== GENESIS_HASH) report('ARCHIVE_EDITED', { ...at, detail: `entry ${record.id} (seq 1) does not start the chain` });
      frontier = seq === 1 ? createMerkleFrontier() : undefined;
    } else if (seq <= before.lastSeq) {
      if (before.month === month) report('ARCHIVE_EDITED', { ...at, detail: `entry ${record.id} repeats seq ${seq} of chain ${chainId} (the month's entries reach ${before.lastSeq} before it)` });
      else report('ARCHIVE_OVERLAP', { ...at, detail: `seq ${seq} of chain ${chainId} is in the archive of ${month} and already in ${before.month || 'the database'} (which reaches seq ${before.lastSeq})` });
      return;
    } else if (seq > before.lastSeq + 1) {
      const span = seq - 1 === before.lastSeq + 1 ? `entry ${before.lastSeq + 1} is` : `entries ${before.lastSeq + 1}–${seq - 1} are`;
      if (before.month === month) report('ARCHIVE_EDITED', { ...at, seq: before.lastSeq + 1, detail: `${span} missing from the archive of chain ${chainId} before entry ${record.id} (seq ${seq})` });
      else report('ARCHIVE_GAP', { ...at, seq: before.lastSeq + 1, detail: `${span} of chain ${chainId} in no archive: ${before.month || 'the database'} ends at seq ${before.lastSeq}, ${month} starts at seq ${seq}` });
      // One entry missing: its successor's link is its hash, so the tree can go on.
      if (frontier && seq - 1 === before.lastSeq + 1 && selfOk) frontier.append(leafOf(record.prevHash));
      else frontier = undefined;
    } else if (record.prevHash !== before.lastHash && blamed.get(chainId) !== before.lastSeq) {
      const inMonth = before.month === month;
      report('ARCHIVE_EDITED', {
        ...at,
        seq: inMonth ? before.lastSeq : seq,
        detail: inMonth
          ? `entry ${before.lastSeq} of chain ${chainId} differs from what entry ${record.id} (seq ${seq}) links to: it was changed and its hash recomputed`
          : `entry ${record.id} (seq ${seq}) does not link to the last entry of chain ${chainId} in ${before.month || 'the database'} (seq ${before.lastSeq})`,
      });
    }
    if (!selfOk) {
      blamed.set(chainId, seq);
      report('ARCHIVE_EDITED', { ...at, detail: `entry ${record.id} (seq ${seq}) does not match its hash: its content was changed` });
    }
    if (!sameSubjects(record, new Set(parsed.subjects.map((subject) => subjectKey(subject.kind, subject.id))))) {
      report('ARCHIVE_EDITED', { ...at, detail: `entry ${record.id} (seq ${seq}): its "who read me" rows differ from its subjects` });
    }
    frontier?.append(leafOf(record.hash));
    states.set(chainId, { month, lastSeq: seq, lastHash: record.hash, frontier });
    const seen = observed.get(chainId);
    if (seen) observed.set(chainId, { ...seen, lastSeq: seq, lastHash: record.hash, entries: seen.entries + 1 });
    else observed.set(chainId, { firstSeq: seq, firstPrevHash: record.prevHash, lastSeq: seq, lastHash: record.hash, entries: 1 });
  };

  const entriesSha256 = await readLines(join(folder, ARCHIVE_ENTRIES_FILE), onLine, options.signal).catch((error: NodeJS.ErrnoException) => {
    if (error.name === 'AbortError') throw error;
    report('ARCHIVE_UNREADABLE', { detail: `${ARCHIVE_ENTRIES_FILE} ${error.code === 'ENOENT' ? 'is missing' : `cannot be read (${error.code ?? 'not gzip'})`}` });
    return undefined;
  });

  if (manifest) {
    if (entriesSha256 !== undefined && entriesSha256 !== manifest.entriesSha256) {
      report('ARCHIVE_EDITED', { detail: `${ARCHIVE_ENTRIES_FILE} is not the file the manifest names (SHA-256 ${entriesSha256.slice(0, 16)}…, the manifest says ${String(manifest.entriesSha256).slice(0, 16)}…)` });
    }
    if (entriesSha256 !== undefined && (manifest.entryCount !== entries || manifest.subjectCount !== subjects)) {
      report('ARCHIVE_EDITED', { detail: `the manifest counts ${manifest.entryCount} entries and ${manifest.subjectCount} "who read me" rows, the entries file holds ${entries} and ${subjects}` });
    }
    for (const head of manifest.chains) checkHead(head, observed.get(head.chainId), states, report);
    for (const chainId of observed.keys()) {
      if (!manifest.chains.some((head) => head.chainId === chainId)) report('ARCHIVE_EDITED', { chainId, detail: `the entries file holds chain ${chainId}, which the manifest does not name` });
    }
  }
  return { month, manifest, manifestSha256, entries, problems };
}

type Report = (kind: ArchiveProblemKind, fields: Parameters<typeof archiveProblem>[2]) => void;

async function readManifest(folder: string, month: string, report: Report): Promise<{ manifest: ArchiveManifest | undefined; manifestSha256: string | undefined }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(folder, ARCHIVE_MANIFEST_FILE));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    report('ARCHIVE_UNREADABLE', { detail: `${ARCHIVE_MANIFEST_FILE} ${code === 'ENOENT' ? 'is missing' : `cannot be read (${code ?? 'failed'})`}` });
    return { manifest: undefined, manifestSha256: undefined };
  }
  const manifestSha256 = sha256Hex(bytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    report('ARCHIVE_UNREADABLE', { detail: `${ARCHIVE_MANIFEST_FILE} is not JSON` });
    return { manifest: undefined, manifestSha256 };
  }
  const manifest = parsed as ArchiveManifest;
  if (manifest?.format !== ARCHIVE_FORMAT || !Array.isArray(manifest.chains) || typeof manifest.entriesSha256 !== 'string' || (manifest.previous !== null && typeof manifest.previous?.manifestSha256 !== 'string')) {
    report('ARCHIVE_UNREADABLE', { detail: `${ARCHIVE_MANIFEST_FILE} is not an ${ARCHIVE_FORMAT} manifest` });
    return { manifest: undefined, manifestSha256 };
  }
  if (manifest.month !== month) report('ARCHIVE_EDITED', { detail: `the manifest in folder ${month} is the manifest of ${String(manifest.month)}` });
  return { manifest, manifestSha256 };
}

/** The signed note must be over this manifest's digest, for this month, by a pinned key. Without keys, only the digest is compared. */
async function checkSignature(folder: string, month: string, manifestSha256: string, verifiers: readonly NoteVerifier[], report: Report): Promise<void> {
  let text: string;
  try {
    text = await readFile(join(folder, ARCHIVE_SIGNATURE_FILE), 'utf8');
  } catch {
    report('ARCHIVE_SIGNATURE', { detail: `${ARCHIVE_SIGNATURE_FILE} is missing: the archive is not signed` });
    return;
  }
  let signed: string;
  try {
    signed = verifiers.length > 0 ? verifyNote(text, verifiers).text : parseNote(text).text;
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === 'KEY_UNKNOWN' ? 'is signed by no pinned log key' : code === 'SIGNATURE_INVALID' ? 'carries a signature that does not verify' : 'is not a signed note';
    report('ARCHIVE_SIGNATURE', { detail: `${ARCHIVE_SIGNATURE_FILE} ${why} (${code ?? 'malformed'})` });
    return;
  }
  const [header, , signedMonth, digest] = signed.split('\n');
  if (header !== ARCHIVE_NOTE_HEADER || signedMonth !== month) {
    report('ARCHIVE_SIGNATURE', { detail: `${ARCHIVE_SIGNATURE_FILE} does not sign the archive of ${month}${signedMonth && header === ARCHIVE_NOTE_HEADER ? ` (it signs ${signedMonth})` : ''}` });
  } else if (digest !== manifestSha256) {
    report('ARCHIVE_EDITED', { detail: `${ARCHIVE_MANIFEST_FILE} was changed after it was signed (its SHA-256 is not the one ${ARCHIVE_SIGNATURE_FILE} signs)` });
  }
}

/** The manifest's head of a chain against what the entries showed; the frontier against the rebuilt one (or, if none could be rebuilt, taken as the chain's from here on). */
function checkHead(head: ArchiveChainHead, seen: { firstSeq: number; firstPrevHash: string; lastSeq: number; lastHash: string; entries: number } | undefined, states: ArchiveChainStates, report: Report): void {
  const { chainId } = head;
  if (!seen) {
    report('ARCHIVE_EDITED', { chainId, seq: head.firstSeq, detail: `the manifest names entries ${head.firstSeq}–${head.lastSeq} of chain ${chainId}, the entries file holds none` });
    return;
  }
  const differs = (['firstSeq', 'firstPrevHash', 'lastSeq', 'lastHash', 'entries'] as const).filter((field) => head[field] !== seen[field]);
  if (differs.length > 0) {
    report('ARCHIVE_EDITED', { chainId, seq: seen.lastSeq, detail: `the manifest's ${differs.join(', ')} of chain ${chainId} differ from its entries (seq ${seen.firstSeq}–${seen.lastSeq}, ${seen.entries} entries)` });
    return;
  }
  const state = states.get(chainId);
  if (head.frontier === null || !state) return;
  if (state.frontier && state.frontier.size === head.lastSeq) {
    const rebuilt = frontierToJson(state.frontier);
    if (rebuilt.length !== head.frontier.length || rebuilt.some((hash, at) => hash !== head.frontier![at])) {
      report('ARCHIVE_EDITED', { chainId, seq: head.lastSeq, detail: `the manifest's Merkle frontier of chain ${chainId} at seq ${head.lastSeq} is not the tree of its entries` });
    }
  } else if (state.lastSeq === head.lastSeq) {
    states.set(chainId, { ...state, frontier: frontierFromJson(head.lastSeq, head.frontier) });
  }
}

/** Streams the gzip file's lines to `onLine`; returns the SHA-256 of its compressed bytes. */
async function readLines(file: string, onLine: (line: string) => void, signal: AbortSignal | undefined): Promise<string> {
  const digest = sha256Stream();
  const gunzip = createGunzip();
  const piped = pipeline(createReadStream(file), digest.stream, gunzip, signal ? { signal } : {});
  piped.catch(() => {});
  // A decoder, not chunk.toString(): a character's bytes may be split across two chunks.
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of gunzip as AsyncIterable<Buffer>) {
    const lines = (rest + decoder.write(chunk)).split('\n');
    rest = lines.pop()!;
    for (const line of lines) onLine(line);
  }
  await piped;
  rest += decoder.end();
  if (rest !== '') onLine(rest);
  return digest.hex();
}

function leafOf(hexHash: string): Uint8Array {
  return hashLeaf(new Uint8Array(Buffer.from(hexHash, 'hex')));
}

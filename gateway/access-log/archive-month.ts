import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import type { ArchiveTarget } from './archive-target.ts';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import type { Transaction } from 'kysely';
import { parseVerifierKey, signNote } from '../../packages/isthmus-log-proofs/src/index.ts';
import type { StoreSchema } from '../store/store-schema.ts';
import { recordFromRow } from './access-log-record.ts';
import { AccessLogArchiveConflictError, AccessLogArchiveDirError } from './access-log-error.ts';
import { checkArchiveMonth, type ArchiveChainStates } from './archive-walk.ts';
import { listArchiveMonths } from './verify-archives.ts';
import { frontierFromJson } from './verify-walk-start.ts';
import {
  ARCHIVE_ENTRIES_FILE,
  ARCHIVE_FORMAT,
  ARCHIVE_MANIFEST_FILE,
  ARCHIVE_SIGNATURE_FILE,
  archiveLineOf,
  archiveNoteText,
  manifestBytes,
  monthLabel,
  sha256Hex,
  sha256Stream,
  type ArchiveChainHead,
  type ArchiveManifest,
} from './archive-format.ts';

export type { ArchiveTarget } from './archive-target.ts';

/** One chain's part of the month, as retention is about to record it in `access_log_detachments`. */
export interface MonthChainDetachment {
  readonly chainId: string;
  readonly maxSeq: number;
  readonly hash: string;
  /** The frontier at `maxSeq` (hex), null when none could be rebuilt. */
  readonly frontier: readonly string[] | null;
  /** The chain's previous detachment, if any: where this month must continue from. */
  readonly before: { readonly seq: number; readonly hash: string; readonly frontier: unknown } | undefined;
}

export interface ArchiveMonthInput {
  readonly target: ArchiveTarget;
  /** The partition's bounds. */
  readonly from: Date;
  readonly until: Date;
  readonly chains: readonly MonthChainDetachment[];
  readonly now: Date;
  readonly signal?: AbortSignal;
}

/** Entries read per query while a month is written. */
const ARCHIVE_PAGE = 1_000;

/**
 * Writes the month [from, until) of the access log to
 * `<dir>/<yyyy-mm>/` (see `archive-format.ts`), reading it in `trx` — the
 * retention run's transaction, before the partition is detached. The month
 * is assembled in a temporary folder, each file fsynced, then renamed into
 * place whole and the folder fsynced; then read back and checked as `log
 * verify --archive` would, against the chains' heads retention is about to
 * record. An archive already there (a run that crashed between archiving
 * and detaching) is checked the same way and reused; one that differs is
 * never overwritten.
 *
 * @throws AccessLogArchiveConflictError when the month's archive (already there, or just written) does not hold the month.
 * @throws AccessLogArchiveDirError when the folder cannot be written.
 */
export async function archiveMonth(trx: Transaction<StoreSchema>, input: ArchiveMonthInput): Promise<{ readonly month: string; readonly reused: boolean }> {
  const { target, from } = input;
  const month = monthLabel(from);
  const folder = join(target.dir, month);
  const present = await access(folder).then(
    () => true,
    () => false,
  );
  if (!present) await writeMonth(trx, folder, month, input);
  await checkWritten(trx, folder, month, input);
  return { month, reused: present };
}

async function writeMonth(trx: Transaction<StoreSchema>, folder: string, month: string, input: ArchiveMonthInput): Promise<void> {
  const { target, from, until, signal } = input;
  const previous = await previousArchive(target.dir, month);
  const temp = join(target.dir, `.${month}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await mkdir(temp, { mode: 0o750 });
    const written = await writeEntries(trx, join(temp, ARCHIVE_ENTRIES_FILE), from, until, signal);
    const chains: ArchiveChainHead[] = [...written.chains.values()].map((seen) => ({ ...seen, frontier: input.chains.find((chain) => chain.chainId === seen.chainId)?.frontier ?? null }));
    const manifest: ArchiveManifest = {
      format: ARCHIVE_FORMAT,
      logName: target.logName,
      month,
      from: from.toISOString(),
      until: until.toISOString(),
      entriesSha256: written.sha256,
      entryCount: written.entries,
      subjectCount: written.subjects,
      previous,
      chains,
      createdAt: input.now.toISOString(),
    };
    const bytes = manifestBytes(manifest);
    await writeDurably(join(temp, ARCHIVE_MANIFEST_FILE), bytes);
    await writeDurably(join(temp, ARCHIVE_SIGNATURE_FILE), signNote(archiveNoteText(target.logName, month, sha256Hex(bytes)), [target.signer]));
    await syncFolder(temp);
    // A rename of a folder onto a folder that holds files fails: an archive that appeared meanwhile is not replaced.
    await rename(temp, folder);
    await syncFolder(target.dir);
  } catch (error) {
    await rm(temp, { recursive: true, force: true }).catch(() => {});
    // Only the file system's own failures name the folder; the database's and an abort pass as they are.
    const failure = error as NodeJS.ErrnoException;
    if (typeof failure.syscall !== 'string') throw error;
    throw new AccessLogArchiveDirError(target.dir, `cannot take the archive of ${month} (${failure.code ?? failure.syscall})`, { cause: error });
  }
}

/** The latest archive before `month` in the folder, by the digest of its manifest; null when there is none. */
async function previousArchive(dir: string, month: string): Promise<ArchiveManifest['previous']> {
  const before = (await listArchiveMonths(dir)).filter((name) => name < month).at(-1);
  if (before === undefined) return null;
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, before, ARCHIVE_MANIFEST_FILE));
  } catch {
    throw new AccessLogArchiveConflictError(month, `cannot follow the archive of ${before}, which has no readable ${ARCHIVE_MANIFEST_FILE}`);
  }
  return { month: before, manifestSha256: sha256Hex(bytes) };
}

/** Streams the month's entries, in (chain, seq) order, with their index rows, through gzip into `file`; fsyncs it. */
async function writeEntries(trx: Transaction<StoreSchema>, file: string, from: Date, until: Date, signal: AbortSignal | undefined) {
  const chains = new Map<string, Omit<ArchiveChainHead, 'frontier'>>();
  let entries = 0;
  let subjects = 0;
  const digest = sha256Stream();
  const gzip = createGzip();
  // `flush`: the file is fsynced before it is closed, so the pipeline ends only once it is durable.
  const written = pipeline(gzip, digest.stream, createWriteStream(file, { flags: 'wx', mode: 0o640, flush: true }));
  written.catch(() => {});
  try {
    let cursor = { chain: '', seq: 0, id: '00000000-0000-0000-0000-000000000000' };
    for (;;) {
      signal?.throwIfAborted();
      const rows = await trx
        .selectFrom('access_log')
        .selectAll()
        .where('occurred_at', '>=', from)
        .where('occurred_at', '<', until)
        .where(({ eb, refTuple, tuple }) => eb(refTuple('chain_id', 'seq', 'id'), '>', tuple(cursor.chain, cursor.seq, cursor.id)))
        .orderBy('chain_id')
        .orderBy('seq')
        .orderBy('id')
        .limit(ARCHIVE_PAGE)
        .execute();
      if (rows.length === 0) break;
      const index = await trx
        .selectFrom('access_log_subjects')
        .select(['entry_id', 'subject_kind', 'subject_id'])
        .where('entry_id', 'in', rows.map((row) => row.id))
        .where('occurred_at', '>=', from)
        .where('occurred_at', '<', until)
        .orderBy('entry_id')
        .orderBy('subject_kind')
        .orderBy('subject_id')
        .execute();
      const byEntry = new Map<string, { kind: string; id: string }[]>();
      for (const row of index) {
        const list = byEntry.get(row.entry_id) ?? [];
        list.push({ kind: row.subject_kind, id: row.subject_id });
        byEntry.set(row.entry_id, list);
      }
      let text = '';
      for (const row of rows) {
        const record = recordFromRow(row);
        const rowSubjects = byEntry.get(record.id) ?? [];
        text += `${archiveLineOf(record, rowSubjects)}\n`;
        entries += 1;
        subjects += rowSubjects.length;
        const seen = chains.get(record.chainId);
        if (seen) chains.set(record.chainId, { ...seen, lastSeq: record.seq, lastHash: record.hash, entries: seen.entries + 1 });
        else chains.set(record.chainId, { chainId: record.chainId, firstSeq: record.seq, firstPrevHash: record.prevHash, lastSeq: record.seq, lastHash: record.hash, entries: 1 });
      }
      if (!gzip.write(text)) await once(gzip, 'drain');
      const last = rows.at(-1)!;
      cursor = { chain: last.chain_id, seq: Number(last.seq), id: last.id };
    }
    gzip.end();
    await written;
  } catch (error) {
    gzip.destroy();
    throw error;
  }
  return { chains, entries, subjects, sha256: digest.hex() };
}

/** Reads the month's archive back and checks it: intact, continuing each chain from its previous detachment, ending where retention will record. */
async function checkWritten(trx: Transaction<StoreSchema>, folder: string, month: string, input: ArchiveMonthInput): Promise<void> {
  const { target } = input;
  const states: ArchiveChainStates = new Map();
  for (const chain of input.chains) {
    if (chain.before) states.set(chain.chainId, { month: '', lastSeq: chain.before.seq, lastHash: chain.before.hash, frontier: frontierFromJson(chain.before.seq, chain.before.frontier) });
  }
  const verifiers = target.verifiers ?? [parseVerifierKey(target.signer.verifierKey)];
  const check = await checkArchiveMonth(folder, month, { verifiers, states, ...(input.signal && { signal: input.signal }) });
  const first = check.problems[0];
  if (first) throw new AccessLogArchiveConflictError(month, `is not intact (${first.kind}: ${first.detail})`);
  const manifest = check.manifest!;
  for (const chain of input.chains) {
    const head = manifest.chains.find((candidate) => candidate.chainId === chain.chainId);
    const frontierDiffers = chain.frontier !== null && JSON.stringify(head?.frontier) !== JSON.stringify(chain.frontier);
    if (!head || head.lastSeq !== chain.maxSeq || head.lastHash !== chain.hash || frontierDiffers) {
      throw new AccessLogArchiveConflictError(month, `does not end chain ${chain.chainId} at seq ${chain.maxSeq} as the database does`);
    }
  }
  const { count } = await trx
    .selectFrom('access_log')
    .select(({ fn }) => fn.countAll<string | number>().as('count'))
    .where('occurred_at', '>=', input.from)
    .where('occurred_at', '<', input.until)
    .executeTakeFirstOrThrow();
  if (manifest.chains.length !== input.chains.length || manifest.entryCount !== Number(count)) {
    throw new AccessLogArchiveConflictError(month, `holds ${manifest.entryCount} entries of ${manifest.chains.length} chains, the database ${Number(count)} of ${input.chains.length}`);
  }
}

/** Writes a new file and fsyncs it. */
export async function writeDurably(file: string, text: string): Promise<void> {
  const handle = await open(file, 'wx', 0o640);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes a rename or a new file in `dir` durable (a folder's entries are its own to fsync). */
async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

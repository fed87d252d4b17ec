import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { equalHashes, previousCheckpointOf } from '../../isthmus-log-proofs/src/index.ts';
import { syncDirectory } from './durable-file.ts';
import { formatJournalRecord, readJournalRecord, type JournalEntry, type JournalRecord } from './journal-record.ts';
import { WitnessInternal } from './witness-error.ts';
import { WitnessSetupError } from './witness-setup-error.ts';

/** The journal's file name in the data directory: one JSON line per cosigned checkpoint, append-only. */
export const JOURNAL_FILE = 'journal.jsonl';

const READ_CHUNK = 1 << 20;
const NEWLINE = 0x0a;

/** The witness's durable memory: every checkpoint it cosigned, and the latest per origin. */
export interface WitnessJournal {
  /** The latest checkpoint cosigned for `origin`. */
  latest(origin: string): JournalEntry | undefined;
  /** The latest checkpoint of every origin, in the order the origins first appeared. */
  latestAll(): readonly JournalEntry[];
  /** Every checkpoint cosigned for `origin`, oldest first; `undefined` for an unknown origin. */
  history(origin: string): Promise<readonly JournalRecord[] | undefined>;
  /** Appends a record and fsyncs it before resolving; appends are serialized. */
  append(record: JournalRecord): Promise<void>;
  close(): Promise<void>;
}

/** Options of `openWitnessJournal`. */
export interface JournalOptions {
  /** Told about a torn last line (a write the crash cut short, never answered), which is dropped. */
  readonly warn: (message: string) => void;
}

interface OriginIndex {
  latest: JournalEntry;
  /** Byte ranges of the origin's lines, oldest first. */
  readonly lines: Array<readonly [offset: number, length: number]>;
}

/** Refuses a record that cannot follow the origin's latest one: the journal was edited, reordered or mixed. */
function checkFollows(previous: JournalEntry | undefined, next: JournalEntry): string | undefined {
  const named = next.checkpoint.previous;
  if (previous === undefined) return named === undefined ? undefined : 'its first checkpoint names a previous one';
  if (previous.record.final) return 'a checkpoint follows a final one';
  const expected = previousCheckpointOf(previous.checkpoint);
  if (named === undefined || named.size !== expected.size || !equalHashes(named.hash, expected.hash)) return 'a checkpoint does not name the one before it';
  if (next.record.size < previous.record.size) return 'the size goes backwards';
  return undefined;
}

async function replay(handle: FileHandle, warn: JournalOptions['warn']): Promise<{ index: Map<string, OriginIndex>; length: number }> {
  const index = new Map<string, OriginIndex>();
  let carry = Buffer.alloc(0);
  let offset = 0; // file offset of carry[0]
  let lineNumber = 0;
  const chunk = Buffer.alloc(READ_CHUNK);
  for (;;) {
    const { bytesRead } = await handle.read(chunk, 0, READ_CHUNK, offset + carry.length);
    if (bytesRead === 0) break;
    const data = Buffer.concat([carry, chunk.subarray(0, bytesRead)]);
    let start = 0;
    for (let end = data.indexOf(NEWLINE, start); end >= 0; end = data.indexOf(NEWLINE, start)) {
      lineNumber += 1;
      const corrupt = (why: string) =>
        new WitnessSetupError('JOURNAL_CORRUPT', `${JOURNAL_FILE} line ${lineNumber} ${why}; the witness will not start on a journal it cannot trust (restore it from a backup)`);
      const entry = readJournalRecord(data.subarray(start, end).toString('utf8'));
      if (entry === undefined) throw corrupt('is not a cosigned checkpoint record');
      const known = index.get(entry.record.origin);
      const why = checkFollows(known?.latest, entry);
      if (why !== undefined) throw corrupt(`does not follow the line before it for its origin: ${why}`);
      const range = [offset + start, end + 1 - start] as const;
      if (known === undefined) index.set(entry.record.origin, { latest: entry, lines: [range] });
      else {
        known.latest = entry;
        known.lines.push(range);
      }
      start = end + 1;
    }
    offset += start;
    carry = Buffer.from(data.subarray(start));
  }
  if (carry.length > 0) {
    // Only a crash mid-write leaves bytes after the last newline; that write was never answered.
    warn(`${JOURNAL_FILE}: dropped a torn last line of ${carry.length} bytes (a write cut short by a crash, never answered)`);
    await handle.truncate(offset);
    await handle.sync();
  }
  return { index, length: offset };
}

/**
 * Opens (creating it if needed) the journal in `dataDir` and rebuilds the
 * witness's state from it. A torn last line is dropped with a warning; any
 * other line that does not read, or that does not follow the line before it
 * for its origin, throws `WitnessSetupError` `JOURNAL_CORRUPT` with its
 * line number.
 */
export async function openWitnessJournal(dataDir: string, options: JournalOptions): Promise<WitnessJournal> {
  const path = join(dataDir, JOURNAL_FILE);
  // 'wx' creates it (and the directory entry is flushed, or a crash could forget the whole journal);
  // writes go to explicit positions through a handle opened 'r+'.
  try {
    await (await open(path, 'wx', 0o644)).close();
    await syncDirectory(dataDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const handle = await open(path, 'r+');
  let state: Awaited<ReturnType<typeof replay>>;
  try {
    state = await replay(handle, options.warn);
  } catch (error) {
    await handle.close();
    throw error;
  }
  const { index } = state;
  let length = state.length;
  let queue: Promise<unknown> = Promise.resolve();
  let failed: unknown;

  async function write(record: JournalRecord): Promise<void> {
    if (failed !== undefined) throw new WitnessInternal('the journal failed to write earlier; restart the witness', { cause: failed });
    const line = formatJournalRecord(record);
    const entry = readJournalRecord(line.slice(0, -1));
    if (entry === undefined) throw new WitnessInternal('a record the witness made does not read back');
    const bytes = Buffer.from(line);
    try {
      // Written at the end the journal knows, so bytes left by a failed write are overwritten, never followed.
      let done = 0;
      while (done < bytes.length) done += (await handle.write(bytes, done, bytes.length - done, length + done)).bytesWritten;
      await handle.datasync();
    } catch (error) {
      // After a failed fsync nothing about the file is certain: refuse to go on until a restart replays it.
      failed = error;
      throw new WitnessInternal('the journal could not be written', { cause: error });
    }
    const range = [length, bytes.length] as const;
    length += bytes.length;
    const known = index.get(record.origin);
    if (known === undefined) index.set(record.origin, { latest: entry, lines: [range] });
    else {
      known.latest = entry;
      known.lines.push(range);
    }
  }

  return {
    latest: (origin) => index.get(origin)?.latest,
    latestAll: () => [...index.values()].map((known) => known.latest),
    async history(origin) {
      const known = index.get(origin);
      if (known === undefined) return undefined;
      const records: JournalRecord[] = [];
      for (const [offset, size] of [...known.lines]) {
        const buffer = Buffer.alloc(size);
        await handle.read(buffer, 0, size, offset);
        const entry = readJournalRecord(buffer.subarray(0, size - 1).toString('utf8'));
        if (entry === undefined) throw new WitnessInternal(`${JOURNAL_FILE} changed under the witness at byte ${offset}`);
        records.push(entry.record);
      }
      return records;
    },
    append(record) {
      const result = queue.then(() => write(record));
      queue = result.catch(() => undefined);
      return result;
    },
    async close() {
      await queue;
      await handle.close();
    },
  };
}

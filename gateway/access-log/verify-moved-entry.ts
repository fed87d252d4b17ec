import { hashAccessLogRecord, type AccessLogRecord } from './access-log-record.ts';

/** Seqs tried on either side of where an entry stands before the search widens to the whole chain. */
export const MOVED_SEARCH_NEAR = 256;
/** Past this many seqs, the search stays near: a whole-chain search per edited entry would cost too much. */
export const MOVED_SEARCH_MAX = 50_000;

/**
 * The seq an entry was written under, when its content still hashes to its
 * stored hash with that seq: the hash binds the entry's place, so a row
 * that hashes right only elsewhere was moved there (a swap moves two).
 * Undefined when no seq up to `maxSeq` fits: its content was changed.
 */
export function findWrittenSeq(record: AccessLogRecord, maxSeq: number): number | undefined {
  const fits = (seq: number) => seq >= 1 && seq !== record.seq && hashAccessLogRecord({ ...record, seq }) === record.hash;
  for (let distance = 1; distance <= MOVED_SEARCH_NEAR; distance++) {
    if (fits(record.seq - distance)) return record.seq - distance;
    if (fits(record.seq + distance)) return record.seq + distance;
  }
  if (maxSeq > MOVED_SEARCH_MAX) return undefined;
  for (let seq = 1; seq <= maxSeq; seq++) if (Math.abs(seq - record.seq) > MOVED_SEARCH_NEAR && fits(seq)) return seq;
  return undefined;
}

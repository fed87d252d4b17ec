import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { JWK } from 'jose';
import { GENESIS_HASH, hashAccessLogRecord, recordFromRow, type AccessLogRecord } from './access-log-record.ts';
import { createCheckpointVerifier, type CheckpointVerifier } from './access-log-checkpoint.ts';
import type { AccessLogCheckpointsTable } from './access-log-tables.ts';
import type { StoreSchema } from '../store/store-schema.ts';

/** Entries (and checkpoints) read per query: memory stays bounded by this, whatever the log's size. */
export const DEFAULT_VERIFY_PAGE_SIZE = 1_000;

/**
 * - `EDITED`: an entry's content no longer matches its hash, its successor's
 *   `prev_hash`, or a signed checkpoint; or its subject index rows differ from
 *   its subjects; or entries follow the chain's final checkpoint.
 * - `MISSING`: a seq is absent between entries (or under a checkpoint), and
 *   retention did not take it.
 * - `CHAIN_CUT`: the chain's tail is gone: a valid checkpoint lies beyond
 *   the last entry, or the chain's instance is marked stopped but the chain
 *   does not end at a valid final checkpoint.
 * - `BAD_CHECKPOINT`: a checkpoint's signature does not verify with the key
 *   its kid names, or what it signed differs from its columns.
 * - `UNKNOWN_KEY`: no key of the set checked against (the trusted JWKS, or the
 *   log's own key table) has the kid a checkpoint is signed with.
 */
export type AccessLogProblemKind = 'EDITED' | 'MISSING' | 'CHAIN_CUT' | 'BAD_CHECKPOINT' | 'UNKNOWN_KEY';

/** The first problem of one chain (lowest seq). */
export interface AccessLogProblem {
  readonly kind: AccessLogProblemKind;
  readonly chainId: string;
  /** Where: the edited entry, the first missing seq, or the first seq cut off. */
  readonly seq: number;
  /**
   * The entry to look at: the edited one; for `MISSING`, the entry that follows
   * the gap; for `CHAIN_CUT`, the last entry left (null if none); for
   * `BAD_CHECKPOINT`, the entry at the checkpoint's seq, if present.
   */
  readonly entryId: string | null;
  /** One line, no personal data. */
  readonly detail: string;
}

export interface AccessLogVerification {
  readonly chains: number;
  readonly entries: number;
  readonly checkpoints: number;
  /** At most one per chain: its first problem. Empty when the log is intact. */
  readonly problems: readonly AccessLogProblem[];
  /** Where the checkpoint keys came from: the caller (`trusted`) or the log's own key table (`store`). */
  readonly keySource: 'trusted' | 'store';
}

export interface VerifyAccessLogOptions {
  /**
   * The gateway's published public keys. Without them, keys recorded in the
   * store are used, which proves only that the log is consistent with
   * itself: whoever can rewrite the log can rewrite that table too.
   */
  readonly trustedKeys?: readonly JWK[];
  /** Default {@link DEFAULT_VERIFY_PAGE_SIZE}. */
  readonly pageSize?: number;
  readonly signal?: AbortSignal;
}

/**
 * Verifies every chain of the access log, in one REPEATABLE READ, READ ONLY
 * transaction: gateways may keep writing, and the verifier sees one
 * consistent snapshot (a writer commits a batch, its checkpoint and its
 * subject rows together, so a snapshot never shows a checkpoint without its
 * entries). Each chain is walked in seq order with keyset pagination.
 *
 * Rules, per chain:
 * - every entry's hash is recomputed from its columns and stored `prev_hash`;
 * - seq 1 links to 64 zeros, every other entry to its predecessor's hash;
 * - a missing seq is `MISSING`, unless retention detached it: detaching a
 *   month records, per chain, the highest seq it removed (R) and its hash, so
 *   seqs up to R may be absent (their month was retired; months and seqs
 *   interleave at the boundary) and entry R+1 must link to R's recorded hash;
 * - every checkpoint must verify, and the entry at its seq must carry its hash;
 * - a chain is cut when a valid checkpoint's seq is beyond the last entry,
 *   or when its gateway instance has `stopped_at` set (a clean shutdown,
 *   written in the same transaction as the final checkpoint) and it does not
 *   end at a valid final checkpoint. A process that crashed has no final
 *   checkpoint and no `stopped_at`; entries after its last checkpoint could be
 *   removed unnoticed — `checkpointEvery` and `checkpointIntervalMs` bound that window.
 *
 * @example
 * const { problems } = await verifyAccessLog(store.db, { trustedKeys: jwks.keys });
 */
export async function verifyAccessLog(db: Kysely<StoreSchema>, options: VerifyAccessLogOptions = {}): Promise<AccessLogVerification> {
  const pageSize = options.pageSize ?? DEFAULT_VERIFY_PAGE_SIZE;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new TypeError('verifyAccessLog: pageSize must be a whole number ≥ 1');
  const signal = options.signal;
  signal?.throwIfAborted();

  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const keys = new Map<string, JWK>();
      if (options.trustedKeys) {
        for (const key of options.trustedKeys) if (key.kid) keys.set(key.kid, key);
      } else {
        for (const row of await trx.selectFrom('access_log_keys').select(['kid', 'public_jwk']).execute()) keys.set(row.kid, row.public_jwk as JWK);
      }
      const verifier = createCheckpointVerifier((kid) => keys.get(kid));
      const keySource: AccessLogVerification['keySource'] = options.trustedKeys ? 'trusted' : 'store';

      const chainIds = await listChains(trx);
      let entries = 0;
      let checkpoints = 0;
      const problems: AccessLogProblem[] = [];
      for (const chainId of chainIds) {
        signal?.throwIfAborted();
        const result = await verifyChain(trx, chainId, verifier, keySource, pageSize, signal);
        entries += result.entries;
        checkpoints += result.checkpoints;
        if (result.problem) problems.push(result.problem);
      }
      return { chains: chainIds.length, entries, checkpoints, problems, keySource };
    });
}

/**
 * Every chain the log knows of: registered by a writer, or present in
 * entries, checkpoints or retention records — so a chain whose entries were
 * all removed is still checked. Entries are scanned with a loose index scan
 * (one index probe per chain), not a full scan.
 */
async function listChains(trx: Transaction<StoreSchema>): Promise<readonly string[]> {
  const { rows } = await sql<{ chain_id: string }>`
    with recursive in_entries as (
      (select chain_id from access_log order by chain_id limit 1)
      union all
      select (select l.chain_id from access_log l where l.chain_id > in_entries.chain_id order by l.chain_id limit 1)
      from in_entries where in_entries.chain_id is not null
    )
    select chain_id from in_entries where chain_id is not null
    union select chain_id from access_log_chains
    union select chain_id from access_log_checkpoints
    union select chain_id from access_log_detachments
    order by chain_id`.execute(trx);
  return rows.map((row) => row.chain_id);
}

interface ChainResult {
  readonly entries: number;
  readonly checkpoints: number;
  readonly problem: AccessLogProblem | undefined;
}

async function verifyChain(
  trx: Transaction<StoreSchema>,
  chainId: string,
  verifier: CheckpointVerifier,
  keySource: AccessLogVerification['keySource'],
  pageSize: number,
  signal: AbortSignal | undefined,
): Promise<ChainResult> {
  let problem: AccessLogProblem | undefined;
  const note = (kind: AccessLogProblemKind, seq: number, entryId: string | null, detail: string) => {
    if (!problem || seq < problem.seq) problem = { kind, chainId, seq, entryId, detail };
  };

  const retired = await trx
    .selectFrom('access_log_detachments')
    .select(['max_seq', 'max_seq_hash'])
    .where('chain_id', '=', chainId)
    .orderBy('max_seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  /** Highest seq retention removed; seqs up to it may be absent. */
  const retiredSeq = retired ? Number(retired.max_seq) : 0;
  const instance = await trx.selectFrom('gateway_instances').select('stopped_at').where('id', '=', chainId).executeTakeFirst();
  const stopped = instance?.stopped_at != null;

  let entries = 0;
  let checkpoints = 0;
  let last: { seq: number; hash: string; id: string } | undefined;
  let finalSeq: number | undefined;
  /** The lowest valid checkpoint past the last entry, if any. */
  let beyond: number | undefined;
  /** Checkpoints up to this seq have been checked. */
  let checkedUpTo = -1;

  const checkCheckpoints = async (upTo: number, bySeq: ReadonlyMap<number, { id: string; hash: string }>) => {
    let after: { seq: number; final: boolean } = { seq: checkedUpTo, final: true };
    for (;;) {
      signal?.throwIfAborted();
      const page = await trx
        .selectFrom('access_log_checkpoints')
        .selectAll()
        .where('chain_id', '=', chainId)
        .where(({ eb, refTuple, tuple }) => eb(refTuple('seq', 'final'), '>', tuple(after.seq, after.final)))
        .$if(Number.isFinite(upTo), (query) => query.where('seq', '<=', upTo))
        .orderBy('seq')
        .orderBy('final')
        .limit(pageSize)
        .execute();
      for (const checkpoint of page) {
        checkpoints += 1;
        await checkCheckpoint(checkpoint, bySeq);
      }
      if (page.length < pageSize) break;
      const tail = page.at(-1)!;
      after = { seq: Number(tail.seq), final: tail.final };
    }
    checkedUpTo = upTo;
  };

  const checkCheckpoint = async (checkpoint: Selectable<AccessLogCheckpointsTable>, bySeq: ReadonlyMap<number, { id: string; hash: string }>) => {
    const seq = Number(checkpoint.seq);
    const entry = bySeq.get(seq);
    const verdict =
      seq === 0 && checkpoint.hash !== GENESIS_HASH
        ? 'CLAIMS_DIFFER'
        : await verifier.check(checkpoint.jws, checkpoint.kid, { chainId, seq, hash: checkpoint.hash, signedAt: checkpoint.signed_at, final: checkpoint.final });
    if (verdict !== 'VALID') {
      const at = entry?.id ?? null;
      if (verdict === 'UNKNOWN_KEY') note('UNKNOWN_KEY', seq, at, `checkpoint at seq ${seq} is signed with key ${checkpoint.kid}, which ${keySource === 'trusted' ? 'the trusted key set' : "the log's key table"} does not have`);
      else if (verdict === 'BAD_SIGNATURE') note('BAD_CHECKPOINT', seq, at, `checkpoint at seq ${seq}: its signature does not verify with key ${checkpoint.kid}`);
      else note('BAD_CHECKPOINT', seq, at, `checkpoint at seq ${seq}: the signed statement differs from the stored checkpoint`);
      return;
    }
    if (checkpoint.final) finalSeq = Math.max(finalSeq ?? 0, seq);
    if (seq === 0) return;
    if (entry) {
      if (entry.hash !== checkpoint.hash) note('EDITED', seq, entry.id, `entry ${seq} differs from the signed checkpoint at that seq`);
    } else if (seq <= retiredSeq) {
      // Retention took it; the signature was all there was to check.
    } else if (last !== undefined && seq <= last.seq) {
      note('MISSING', seq, null, `entry ${seq} under a signed checkpoint is missing`);
    } else {
      beyond = Math.min(beyond ?? seq, seq);
    }
  };

  // Keyset on (seq, id), not seq alone, so a duplicated seq split across two pages is still seen twice.
  let cursor: { seq: number; id: string } = { seq: 0, id: '00000000-0000-0000-0000-000000000000' };
  for (;;) {
    signal?.throwIfAborted();
    const rows = await trx
      .selectFrom('access_log')
      .selectAll()
      .where('chain_id', '=', chainId)
      .where(({ eb, refTuple, tuple }) => eb(refTuple('seq', 'id'), '>', tuple(cursor.seq, cursor.id)))
      .orderBy('seq')
      .orderBy('id')
      .limit(pageSize)
      .execute();
    if (rows.length === 0) break;
    const records = rows.map(recordFromRow);
    const indexed = await subjectIndex(trx, records);
    const bySeq = new Map<number, { id: string; hash: string }>();

    for (const record of records) {
      entries += 1;
      const { seq, id } = record;
      if (hashAccessLogRecord(record) !== record.hash) note('EDITED', seq, id, `entry ${seq} does not match its hash`);
      if (!sameSubjects(record, indexed.get(id))) note('EDITED', seq, id, `entry ${seq}'s subject index rows differ from its subjects`);
      if (last && seq === last.seq) {
        note('EDITED', seq, id, `seq ${seq} appears twice`);
        continue;
      }
      const expected = (last?.seq ?? 0) + 1;
      if (seq > expected && seq - 1 > retiredSeq) {
        const firstMissing = Math.max(expected, retiredSeq + 1);
        note('MISSING', firstMissing, id, `entries ${firstMissing}–${seq - 1} are missing before entry ${seq}`);
      }
      if (seq === 1) {
        if (record.prevHash !== GENESIS_HASH) note('EDITED', seq, id, 'the first entry does not start the chain');
      } else if (last && last.seq === seq - 1) {
        // The successor committed to its predecessor's hash; if they disagree, the predecessor was rewritten.
        if (record.prevHash !== last.hash) note('EDITED', last.seq, last.id, `entry ${last.seq} differs from what entry ${seq} links to`);
      } else if (retired && seq - 1 === retiredSeq && record.prevHash !== retired.max_seq_hash) {
        note('EDITED', seq, id, `entry ${seq} does not link to the last retired entry`);
      }
      if (finalSeq !== undefined && seq > finalSeq) note('EDITED', seq, id, `entry ${seq} follows the chain's final checkpoint`);
      bySeq.set(seq, { id, hash: record.hash });
      last = { seq, hash: record.hash, id };
    }
    const tail = rows.at(-1)!;
    cursor = { seq: Number(tail.seq), id: tail.id };
    await checkCheckpoints(cursor.seq, bySeq);
    // A final checkpoint found on this page makes later entries suspicious; re-check those already on it.
    if (finalSeq !== undefined) for (const [seq, entry] of bySeq) if (seq > finalSeq) note('EDITED', seq, entry.id, `entry ${seq} follows the chain's final checkpoint`);
  }

  // What is left of the checkpoints lies beyond the last entry: the chain went further than what remains.
  await checkCheckpoints(Number.POSITIVE_INFINITY, new Map());
  const end = Math.max(last?.seq ?? 0, retiredSeq);
  if (beyond !== undefined) {
    note('CHAIN_CUT', end + 1, last?.id ?? null, `a signed checkpoint is at seq ${beyond} but the chain ends at ${end}`);
  } else if (stopped && finalSeq === undefined) {
    note('CHAIN_CUT', end + 1, last?.id ?? null, 'the instance stopped but the chain has no signed final checkpoint');
  }
  return { entries, checkpoints, problem };
}

/** The subject index rows of a page of entries, by entry id (the time range prunes partitions). */
async function subjectIndex(trx: Transaction<StoreSchema>, records: readonly AccessLogRecord[]): Promise<ReadonlyMap<string, Set<string>>> {
  const times = records.map((record) => record.entry.occurredAt.getTime());
  const rows = await trx
    .selectFrom('access_log_subjects')
    .select(['entry_id', 'subject_kind', 'subject_id'])
    .where(
      'entry_id',
      'in',
      records.map((record) => record.id),
    )
    .where('occurred_at', '>=', new Date(Math.min(...times)))
    .where('occurred_at', '<=', new Date(Math.max(...times)))
    .execute();
  const index = new Map<string, Set<string>>();
  for (const row of rows) {
    let subjects = index.get(row.entry_id);
    if (!subjects) index.set(row.entry_id, (subjects = new Set()));
    subjects.add(subjectKey(row.subject_kind, row.subject_id));
  }
  return index;
}

function sameSubjects(record: AccessLogRecord, indexed: ReadonlySet<string> | undefined): boolean {
  const listed = record.entry.subjects;
  if (!Array.isArray(listed)) return false;
  const expected = new Set(listed.map((subject) => subjectKey(subject?.kind, subject?.id)));
  const actual = indexed ?? new Set<string>();
  return expected.size === actual.size && [...expected].every((key) => actual.has(key));
}

function subjectKey(kind: unknown, id: unknown): string {
  return `${String(kind)}\u0000${String(id)}`;
}

import { sql, type Kysely, type Transaction } from 'kysely';
import { createMerkleFrontier, hashLeaf } from '../../packages/isthmus-log-proofs/src/index.ts';
import { frontierFromJson, frontierToJson } from './verify-walk-start.ts';
import { AccessLogRetentionTooShortError } from './access-log-error.ts';
import { DEFAULT_LOG_RETENTION_DAYS, MIN_LOG_RETENTION_DAYS } from '../config/config.ts';
import type { StoreSchema } from '../store/store-schema.ts';
import { archiveMonth, type ArchiveTarget, type MonthChainDetachment } from './archive-month.ts';

const DAY_MS = 86_400_000;

/** Advisory lock key (one int8) that serialises retention runs of several gateways. */
const RETENTION_LOCK = 0x15_7a_10_7e;

export interface DetachExpiredPartitionsOptions {
  /** Default {@link DEFAULT_LOG_RETENTION_DAYS}; less than {@link MIN_LOG_RETENTION_DAYS} is refused. */
  readonly retentionDays?: number;
  /**
   * `ISTHMUS_LOG_ARCHIVE_DIR` and the log note key: each month is written
   * out as a signed archive, durably and checked, before it is detached;
   * a month whose archive fails is not detached (the run throws).
   */
  readonly archive?: ArchiveTarget;
  readonly signal?: AbortSignal;
}

/** A month that was detached: its partitions are now standalone tables, for the archive. */
export interface DetachedPartition {
  readonly table: 'access_log' | 'access_log_subjects';
  readonly partition: string;
  readonly upperBound: Date;
  /** For `access_log` with an archive target: the archive's month, and whether an archive already there was reused. */
  readonly archived?: { readonly month: string; readonly reused: boolean };
}

/**
 * Detaches the access log's monthly partitions that lie entirely before
 * `now − retentionDays` — both `access_log` and `access_log_subjects`. Rows
 * are never deleted: a detached partition stays in the database as a plain
 * table until the operator archives and drops it.
 *
 * Before a log partition goes, the highest seq it holds of each chain, that
 * entry's hash and the chain's Merkle frontier at that seq are recorded in
 * `access_log_detachments`, in the same transaction, so `verifyAccessLog`
 * knows which gaps retention made, can still check the link of the first
 * entry that remains, and rebuilds the witnessed roots from there on.
 *
 * With `archive`, each month is first written out as a signed, hash-linked
 * archive (`archiveMonth`), read back and checked, in the same transaction:
 * a month leaves the database only once its archive is durable.
 *
 * Safe with several gateways: runs take an advisory lock and re-read the
 * partition list under it.
 *
 * @throws AccessLogRetentionTooShortError when `retentionDays` is below six months.
 * @example
 * await detachExpiredPartitions(store.db, new Date(), { retentionDays: config.logRetentionDays });
 */
export async function detachExpiredPartitions(db: Kysely<StoreSchema>, now: Date, options: DetachExpiredPartitionsOptions = {}): Promise<readonly DetachedPartition[]> {
  const retentionDays = options.retentionDays ?? DEFAULT_LOG_RETENTION_DAYS;
  if (!Number.isSafeInteger(retentionDays) || retentionDays < MIN_LOG_RETENTION_DAYS) throw new AccessLogRetentionTooShortError(retentionDays, MIN_LOG_RETENTION_DAYS);
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MS);
  options.signal?.throwIfAborted();

  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${RETENTION_LOCK}::int8)`.execute(trx);
    const detached: DetachedPartition[] = [];
    for (const table of ['access_log', 'access_log_subjects'] as const) {
      for (const { partition, lowerBound, upperBound } of await expiredPartitions(trx, table, cutoff)) {
        options.signal?.throwIfAborted();
        let archived: DetachedPartition['archived'];
        if (table === 'access_log') {
          const chains = await chainDetachments(trx, partition, options.signal);
          if (options.archive) {
            if (!lowerBound) throw new TypeError(`retention: partition ${partition} has no lower bound to archive it by`);
            archived = await archiveMonth(trx, { target: options.archive, from: lowerBound, until: upperBound, chains, now, ...(options.signal && { signal: options.signal }) });
          }
          await recordDetachments(trx, partition, upperBound, now, chains);
        }
        // The owner's function (migration 0006): the gateway's login owns no table, and it refuses months younger than six.
        await sql`select access_log_detach_partition(${table}, ${partition})`.execute(trx);
        detached.push({ table, partition, upperBound, ...(archived && { archived }) });
      }
    }
    return detached;
  });
}

/**
 * Partitions of `table` whose upper bound is at or before `cutoff`. Bounds
 * come from the catalogue (`pg_get_expr` of the partition bound, whose
 * timestamps carry their offset), not from partition names.
 */
async function expiredPartitions(db: Kysely<StoreSchema>, table: string, cutoff: Date): Promise<readonly { partition: string; lowerBound: Date | undefined; upperBound: Date }[]> {
  const { rows } = await sql<{ partition: string; lower_bound: Date | null; upper_bound: Date | null }>`
    select child.relname as partition,
           (regexp_match(pg_get_expr(child.relpartbound, child.oid), 'FROM \\(''([^'']+)''\\)'))[1]::timestamptz as lower_bound,
           (regexp_match(pg_get_expr(child.relpartbound, child.oid), 'TO \\(''([^'']+)''\\)'))[1]::timestamptz as upper_bound
    from pg_inherits
    join pg_class child on child.oid = pg_inherits.inhrelid
    where pg_inherits.inhparent = to_regclass(${table})`.execute(db);
  return rows
    .filter((row): row is { partition: string; lower_bound: Date | null; upper_bound: Date } => row.upper_bound !== null && new Date(row.upper_bound).getTime() <= cutoff.getTime())
    .map((row) => ({ partition: row.partition, lowerBound: row.lower_bound === null ? undefined : new Date(row.lower_bound), upperBound: new Date(row.upper_bound) }))
    .sort((a, b) => a.upperBound.getTime() - b.upperBound.getTime());
}

/** Rows read per query while the frontier is rebuilt. */
const FRONTIER_PAGE = 1_000;

/**
 * For each chain in `partition`: its highest seq R there, that entry's
 * hash, and the frontier of the chain's tree at R — from the previous
 * detachment's frontier (or the empty tree), over the entries after it up
 * to R, still attached now. Without a previous frontier to start from (a
 * detachment made before frontiers were recorded), or with a gap below R,
 * there is none.
 */
async function chainDetachments(trx: Transaction<StoreSchema>, partition: string, signal: AbortSignal | undefined): Promise<readonly MonthChainDetachment[]> {
  const { rows: heads } = await sql<{ chain_id: string; seq: string | number; hash: string }>`
    select distinct on (chain_id) chain_id, seq, hash from ${sql.id(partition)} order by chain_id, seq desc`.execute(trx);
  const chains: MonthChainDetachment[] = [];
  for (const head of heads) {
    signal?.throwIfAborted();
    const maxSeq = Number(head.seq);
    const { rows: before } = await sql<{ max_seq: string | number; max_seq_hash: string; frontier: unknown }>`
      select max_seq, max_seq_hash, frontier from access_log_detachments where chain_id = ${head.chain_id} and max_seq < ${maxSeq} order by max_seq desc limit 1`.execute(trx);
    const from = before[0] ? Number(before[0].max_seq) : 0;
    const frontier = before[0] ? frontierFromJson(from, before[0].frontier) : createMerkleFrontier();
    let recorded: string[] | null = null;
    if (frontier) {
      let after = from;
      for (;;) {
        signal?.throwIfAborted();
        const { rows } = await sql<{ seq: string | number; hash: string }>`
          select distinct on (seq) seq, hash from access_log
          where chain_id = ${head.chain_id} and seq > ${after} and seq <= ${maxSeq} order by seq limit ${FRONTIER_PAGE}`.execute(trx);
        for (const row of rows) frontier.append(hashLeaf(new Uint8Array(Buffer.from(row.hash, 'hex'))));
        if (rows.length < FRONTIER_PAGE) break;
        after = Number(rows.at(-1)!.seq);
      }
      // A gap below R (entries already gone) leaves no frontier that could be right: record none.
      if (frontier.size === maxSeq) recorded = frontierToJson(frontier);
    }
    chains.push({
      chainId: head.chain_id,
      maxSeq,
      hash: head.hash,
      frontier: recorded,
      before: before[0] && { seq: from, hash: before[0].max_seq_hash, frontier: before[0].frontier },
    });
  }
  return chains;
}

/** Records each chain's part of the detached month in `access_log_detachments`, in the run's transaction. */
async function recordDetachments(trx: Transaction<StoreSchema>, partition: string, upperBound: Date, now: Date, chains: readonly MonthChainDetachment[]): Promise<void> {
  for (const chain of chains) {
    await sql`
      insert into access_log_detachments (partition_name, chain_id, max_seq, max_seq_hash, upper_bound, detached_at, frontier)
      values (${partition}, ${chain.chainId}, ${chain.maxSeq}, ${chain.hash}, ${upperBound}::timestamptz, ${now}::timestamptz, ${chain.frontier === null ? null : JSON.stringify(chain.frontier)}::jsonb)`.execute(trx);
  }
}

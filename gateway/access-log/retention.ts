import { sql, type Kysely } from 'kysely';
import { AccessLogRetentionTooShortError } from './access-log-error.ts';
import { DEFAULT_LOG_RETENTION_DAYS, MIN_LOG_RETENTION_DAYS } from '../config/config.ts';
import type { StoreSchema } from '../store/store-schema.ts';

const DAY_MS = 86_400_000;

/** Advisory lock key (one int8) that serialises retention runs of several gateways. */
const RETENTION_LOCK = 0x15_7a_10_7e;

export interface DetachExpiredPartitionsOptions {
  /** Default {@link DEFAULT_LOG_RETENTION_DAYS}; less than {@link MIN_LOG_RETENTION_DAYS} is refused. */
  readonly retentionDays?: number;
  readonly signal?: AbortSignal;
}

/** A month that was detached: its partitions are now standalone tables, for the archive. */
export interface DetachedPartition {
  readonly table: 'access_log' | 'access_log_subjects';
  readonly partition: string;
  readonly upperBound: Date;
}

/**
 * Detaches the access log's monthly partitions that lie entirely before
 * `now − retentionDays` — both `access_log` and `access_log_subjects`. Rows
 * are never deleted: a detached partition stays in the database as a plain
 * table until the operator archives and drops it.
 *
 * Before a log partition goes, the highest seq it holds of each chain and
 * that entry's hash are recorded in `access_log_detachments`, in the same
 * transaction, so `verifyAccessLog` knows which gaps retention made and can
 * still check the link of the first entry that remains.
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
      for (const { partition, upperBound } of await expiredPartitions(trx, table, cutoff)) {
        options.signal?.throwIfAborted();
        if (table === 'access_log') {
          await sql`
            insert into access_log_detachments (partition_name, chain_id, max_seq, max_seq_hash, upper_bound, detached_at)
            select distinct on (chain_id) ${partition}, chain_id, seq, hash, ${upperBound}::timestamptz, ${now}::timestamptz
            from ${sql.id(partition)}
            order by chain_id, seq desc`.execute(trx);
        }
        // The owner's function (migration 0006): the gateway's login owns no table, and it refuses months younger than six.
        await sql`select access_log_detach_partition(${table}, ${partition})`.execute(trx);
        detached.push({ table, partition, upperBound });
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
async function expiredPartitions(db: Kysely<StoreSchema>, table: string, cutoff: Date): Promise<readonly { partition: string; upperBound: Date }[]> {
  const { rows } = await sql<{ partition: string; upper_bound: Date | null }>`
    select child.relname as partition,
           (regexp_match(pg_get_expr(child.relpartbound, child.oid), 'TO \\(''([^'']+)''\\)'))[1]::timestamptz as upper_bound
    from pg_inherits
    join pg_class child on child.oid = pg_inherits.inhrelid
    where pg_inherits.inhparent = to_regclass(${table})`.execute(db);
  return rows
    .filter((row): row is { partition: string; upper_bound: Date } => row.upper_bound !== null && new Date(row.upper_bound).getTime() <= cutoff.getTime())
    .map((row) => ({ partition: row.partition, upperBound: new Date(row.upper_bound) }))
    .sort((a, b) => a.upperBound.getTime() - b.upperBound.getTime());
}

import { sql, type Kysely } from 'kysely';
import type { StoreSchema } from '../store/store-schema.ts';

/**
 * Makes sure the monthly partitions of `access_log` and
 * `access_log_subjects` exist for the month of `now` and the next one, so an
 * entry never finds its month missing. Idempotent and safe for several
 * gateways at once (see `access_log_ensure_partition` in migration 0003).
 * The writer calls it when it starts and whenever the month has turned;
 * creating next month's partition a month early keeps DDL away from the
 * moment the month changes.
 *
 * Runs as the gateway's own database user: the log writer role may not create tables.
 *
 * @example
 * await ensurePartitions(store.db, new Date());
 */
export async function ensurePartitions(db: Kysely<StoreSchema>, now: Date, signal?: AbortSignal): Promise<readonly string[]> {
  return ensurePartitionsFor(db, [now, nextMonth(now)], signal);
}

/** Ensures the partitions of each given instant's month; returns the months (`2026-05`) now known to exist. */
export async function ensurePartitionsFor(db: Kysely<StoreSchema>, instants: readonly Date[], signal?: AbortSignal): Promise<readonly string[]> {
  const months = [...new Set(instants.map(monthOf))];
  for (const month of months) {
    signal?.throwIfAborted();
    await sql`select access_log_ensure_partition(${`${month}-01T00:00:00Z`}::timestamptz)`.execute(db);
  }
  return months;
}

/** The UTC month of an instant, `YYYY-MM`: the partition it belongs to. */
export function monthOf(instant: Date): string {
  return instant.toISOString().slice(0, 7);
}

function nextMonth(instant: Date): Date {
  return new Date(Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth() + 1, 1));
}

import { Counter, type Registry } from 'prom-client';
import { sql, type Kysely } from 'kysely';
import { DEFAULT_SECURITY_EVENT_RETENTION_DAYS, MIN_SECURITY_EVENT_RETENTION_DAYS } from '../config/config.ts';
import type { StoreSchema } from '../store/store-schema.ts';

const DAY_MS = 86_400_000;
/** Rows one call of `security_events_prune` removes at most: a backlog of a flood goes in short transactions, not one long lock. */
export const DEFAULT_SECURITY_EVENT_PRUNE_BATCH = 10_000;

/** A retention shorter than the six months level-3 protection keeps security logs. */
export class SecurityEventRetentionTooShortError extends Error {
  readonly code = 'SECURITY_EVENT_RETENTION_TOO_SHORT';
  readonly days: number;
  constructor(days: number) {
    super(`security event retention of ${days} days is below the required ${MIN_SECURITY_EVENT_RETENTION_DAYS} days`);
    this.name = 'SecurityEventRetentionTooShortError';
    this.days = days;
  }
}

/** Options of {@link pruneSecurityEvents}. */
export interface PruneSecurityEventsOptions {
  /** Default {@link DEFAULT_SECURITY_EVENT_RETENTION_DAYS}; less than {@link MIN_SECURITY_EVENT_RETENTION_DAYS} is refused. */
  readonly retentionDays?: number;
  /** Default {@link DEFAULT_SECURITY_EVENT_PRUNE_BATCH}. */
  readonly batch?: number;
  readonly signal?: AbortSignal;
}

/**
 * Removes the security events older than `now − retentionDays`, batch by
 * batch, through the owner's `security_events_prune` (migration 0015): the
 * gateway's login may not delete from the table, and the function refuses
 * any cutoff younger than six months by the database's clock, whatever this
 * process's clock or settings say. Returns how many rows went.
 *
 * @throws SecurityEventRetentionTooShortError when `retentionDays` is below six months.
 * @example
 * const removed = await pruneSecurityEvents(store.db, new Date(), { retentionDays: config.securityEventRetentionDays });
 */
export async function pruneSecurityEvents(db: Kysely<StoreSchema>, now: Date, options: PruneSecurityEventsOptions = {}): Promise<number> {
  const retentionDays = options.retentionDays ?? DEFAULT_SECURITY_EVENT_RETENTION_DAYS;
  if (!Number.isSafeInteger(retentionDays) || retentionDays < MIN_SECURITY_EVENT_RETENTION_DAYS) throw new SecurityEventRetentionTooShortError(retentionDays);
  const batch = options.batch ?? DEFAULT_SECURITY_EVENT_PRUNE_BATCH;
  const before = new Date(now.getTime() - retentionDays * DAY_MS);
  let removed = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const { rows } = await sql<{ removed: number }>`select security_events_prune(${before}::timestamptz, ${batch}::integer) as removed`.execute(db);
    const count = Number(rows[0]?.removed ?? 0);
    removed += count;
    if (count < batch) return removed;
  }
}

/** One retention run, counted: what the gateway's sweep calls. */
export type RunSecurityEventRetention = (now: Date) => Promise<number>;

/**
 * {@link pruneSecurityEvents} with its metrics on `registry`:
 * `isthmus_security_events_pruned_total` (rows removed) and
 * `isthmus_security_event_retention_failures_total` (runs that failed; the
 * next sweep tries again).
 *
 * @example
 * const retention = createSecurityEventRetention(store.db, metrics.registry, config.securityEventRetentionDays);
 * await retention(new Date());
 */
export function createSecurityEventRetention(db: Kysely<StoreSchema>, registry: Registry, retentionDays: number): RunSecurityEventRetention {
  const registers = [registry];
  const pruned = new Counter({ name: 'isthmus_security_events_pruned_total', help: 'Security events removed by retention (older than ISTHMUS_SECURITY_EVENT_RETENTION_DAYS).', registers });
  const failures = new Counter({ name: 'isthmus_security_event_retention_failures_total', help: 'Security event retention runs that failed (tried again at the next sweep).', registers });
  return async (now) => {
    try {
      const removed = await pruneSecurityEvents(db, now, { retentionDays });
      pruned.inc(removed);
      return removed;
    } catch (error) {
      failures.inc();
      throw error;
    }
  };
}

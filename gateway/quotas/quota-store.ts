import { sql, type Kysely } from 'kysely';
import type { QuotaKind } from '../../policies/agreement-quota.ts';
import { quotaWindow } from '../../policies/quota-window.ts';
import type { StoreSchema } from '../store/store-schema.ts';

/**
 * The shared counters of agreement quotas, one row per agreement, kind and
 * window in `agreement_quota_use` (migration 0011). Replicas lease blocks of
 * units from a row and spend them locally (`quota-meter.ts`); the lease is one
 * `insert … on conflict do update … returning`, so concurrent replicas are
 * ordered by the row lock and together never lease more than the limit.
 */
export interface QuotaStore {
  /**
   * Leases up to `units` of `kind` for the window that starts at
   * `windowStart`; returns how many were granted (0 once the window's
   * `limit` is leased out). The counter stops growing once it reaches the limit.
   * Units leased but not spent by the window's end are not given back.
   */
  lease(agreementId: string, kind: QuotaKind, windowStart: Date, units: number, limit: number): Promise<number>;
  /** Units leased in the window holding `now`, per kind (the last ask may take it past the limit: show at most the limit). */
  use(agreementId: string, now: Date): Promise<Readonly<Record<QuotaKind, number>>>;
}

/** A quota store over the gateway's database. */
export function createQuotaStore(db: Kysely<StoreSchema>): QuotaStore {
  return {
    async lease(agreementId, kind, windowStart, units, limit) {
      const row = await db
        .insertInto('agreement_quota_use')
        .values({ agreement_id: agreementId, kind, window_start: windowStart, used: units })
        .onConflict((conflict) =>
          conflict
            .columns(['agreement_id', 'kind', 'window_start'])
            .doUpdateSet({ used: sql<number>`agreement_quota_use.used + excluded.used` })
            // Once the limit is leased out the row is left alone, so it exceeds the limit by less than one ask.
            .where(sql.ref('agreement_quota_use.used'), '<', limit),
        )
        .returning('used')
        .executeTakeFirst();
      if (!row) return 0;
      // The row held `used - units` before this ask, whether it was inserted (0) or updated.
      return Math.max(0, Math.min(units, limit - (Number(row.used) - units)));
    },
    async use(agreementId, now) {
      const minute = quotaWindow('requestsPerMinute', now).start;
      const day = quotaWindow('recordsPerDay', now).start;
      const rows = await db
        .selectFrom('agreement_quota_use')
        .select(['kind', 'used'])
        .where('agreement_id', '=', agreementId)
        .where((where) => where.or([where.and([where('kind', '=', 'requestsPerMinute'), where('window_start', '=', minute)]), where.and([where('kind', '=', 'recordsPerDay'), where('window_start', '=', day)])]))
        .execute();
      const use: Record<QuotaKind, number> = { requestsPerMinute: 0, recordsPerDay: 0 };
      for (const row of rows) use[row.kind] = Number(row.used);
      return use;
    },
  };
}

import { sql, type Kysely } from 'kysely';
import type { StoreSchema } from '../store/store-schema.ts';

/** Longest span one chart reads: a year of days keeps the query and the chart bounded. */
export const MAX_USE_DAYS = 366;
/** The days an agreement's page charts when not told otherwise. */
export const DEFAULT_USE_DAYS = 30;
const DAY_MS = 86_400_000;

/** Reads under one agreement on one day (in Asia/Shanghai) by one consumer app. */
export interface AgreementUseDay {
  /** `YYYY-MM-DD`, the city's date. */
  readonly day: string;
  readonly clientApp: string;
  readonly reads: number;
}

/**
 * How much an agreement was used: the access log's `READ` entries that name
 * it and got data (`ALLOWED` or `PARTIAL`), counted per day of the city's
 * calendar and per consumer app, in `[from, until)`, oldest day first.
 * Counts only — no subject, no field, no user leaves the log here, so
 * reading them is not itself an access to personal data.
 *
 * @throws RangeError for a span that is empty or longer than {@link MAX_USE_DAYS}.
 * @example
 * const days = await readAgreementUse(store.db, 'agr-1', { from, until }, AbortSignal.timeout(5_000));
 */
export async function readAgreementUse(
  db: Kysely<StoreSchema>,
  agreementId: string,
  range: { readonly from: Date; readonly until: Date },
  signal?: AbortSignal,
): Promise<readonly AgreementUseDay[]> {
  const span = range.until.getTime() - range.from.getTime();
  if (!(span > 0) || span > MAX_USE_DAYS * DAY_MS) throw new RangeError(`the span must be more than 0 and at most ${MAX_USE_DAYS} days`);
  signal?.throwIfAborted();
  const day = sql<string>`to_char(occurred_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD')`;
  const query = db
    .selectFrom('access_log')
    .select([day.as('day'), 'client_app', sql<string | number>`count(*)`.as('reads')])
    // The partition key bounds the scan to the months of the span; the jsonb containment picks the agreement's entries.
    .where('occurred_at', '>=', range.from)
    .where('occurred_at', '<', range.until)
    .where('action', '=', 'READ')
    .where('outcome', 'in', ['ALLOWED', 'PARTIAL'])
    .where(sql<boolean>`agreement_ids @> ${JSON.stringify([agreementId])}::jsonb`)
    .groupBy([day, 'client_app'])
    .orderBy(day)
    .orderBy('client_app');
  const rows = await abortable(query.execute(), signal);
  return rows.map((row) => ({ day: row.day, clientApp: row.client_app, reads: Number(row.reads) }));
}

/** Stops waiting on an abort; the query itself ends by the store's statement timeout. */
function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

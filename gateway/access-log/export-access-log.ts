import type { Kysely } from 'kysely';
import { recordFromRow, type AccessLogRecord } from './access-log-record.ts';
import type { StoreSchema } from '../store/store-schema.ts';

/** Entries read per query while exporting. */
export const DEFAULT_EXPORT_PAGE_SIZE = 1_000;

export interface ExportAccessLogOptions {
  /** Entries that occurred at or after this instant. */
  readonly since: Date;
  /** …and before this one; unset: up to the end of the snapshot. */
  readonly until?: Date;
  /** Default {@link DEFAULT_EXPORT_PAGE_SIZE}. */
  readonly pageSize?: number;
  readonly signal?: AbortSignal;
}

/**
 * Streams log records in (occurred_at, id) order, one page at a time
 * (keyset pagination on the `access_log_time` index), so memory stays at one
 * page whatever the range. All pages come from one REPEATABLE READ snapshot,
 * so an export taken while gateways write is consistent. The snapshot's
 * transaction holds a connection until the iteration ends: stop iterating
 * (or `return()`) to release it.
 *
 * @example
 * for await (const record of exportAccessLog(store.db, { since: new Date('2026-05-01') })) write(accessLogRecordJson(record));
 */
export async function* exportAccessLog(db: Kysely<StoreSchema>, options: ExportAccessLogOptions): AsyncGenerator<AccessLogRecord, void, undefined> {
  const pageSize = options.pageSize ?? DEFAULT_EXPORT_PAGE_SIZE;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new TypeError('exportAccessLog: pageSize must be a whole number ≥ 1');
  options.signal?.throwIfAborted();
  const trx = await db.startTransaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute();
  try {
    let after: { occurredAt: Date; id: string } | undefined;
    for (;;) {
      options.signal?.throwIfAborted();
      const rows = await trx
        .selectFrom('access_log')
        .selectAll()
        .where('occurred_at', '>=', options.since)
        .$if(options.until !== undefined, (query) => query.where('occurred_at', '<', options.until!))
        .$if(after !== undefined, (query) => query.where(({ eb, refTuple, tuple }) => eb(refTuple('occurred_at', 'id'), '>', tuple(after!.occurredAt, after!.id))))
        .orderBy('occurred_at')
        .orderBy('id')
        .limit(pageSize)
        .execute();
      for (const row of rows) yield recordFromRow(row);
      if (rows.length < pageSize) break;
      const last = rows.at(-1)!;
      after = { occurredAt: last.occurred_at, id: last.id };
    }
  } finally {
    await trx.rollback().execute();
  }
}

import type { Store } from '../../gateway/store/store.ts';

/** Request ids looked up per query: well under PostgreSQL's bound on parameters. */
const CHUNK = 500;

/**
 * The request ids among `requestIds` that have no entry in the store's
 * access log: for a test that counted the 200s its clients received and
 * must find each one's entry (no log, no data).
 */
export async function missingLogEntries(store: Store, requestIds: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  for (let index = 0; index < requestIds.length; index += CHUNK) {
    const rows = await store.db.selectFrom('access_log').select('request_id').where('request_id', 'in', requestIds.slice(index, index + CHUNK)).execute();
    for (const row of rows) found.add(row.request_id);
  }
  return requestIds.filter((id) => !found.has(id));
}

import { AgreementStoreError } from './agreement-store-error.ts';

/**
 * The cursors of the agreement store's listings: opaque to clients, and
 * refused (`BAD_CURSOR`) unless they are what a listing handed out. Moved
 * out of agreement-store.ts to keep it one concept, the store.
 */

/** Cursors are opaque to clients: base64url of the last row's sort key. */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string): unknown {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Largest `agreement_events.id` (an `integer` column): a larger cursor would fail in PostgreSQL, not here. */
const MAX_EVENT_ID = 2 ** 31 - 1;

/** The created-at instant and id of a listing's last row. Only what {@link encodeCursor} wrote: an instant as `toISOString` spells it and an id PostgreSQL can hold as text. */
export function decodeListCursor(cursor: string): [Date, string] {
  const key = decodeCursor(cursor);
  if (Array.isArray(key) && key.length === 2 && typeof key[0] === 'string' && typeof key[1] === 'string') {
    const [at, id] = key as [string, string];
    const createdAt = new Date(at);
    const year = createdAt.getUTCFullYear();
    if (!Number.isNaN(year) && year >= 1 && year <= 9999 && createdAt.toISOString() === at && id.isWellFormed() && !id.includes('\u0000')) return [createdAt, id];
  }
  throw new AgreementStoreError('BAD_CURSOR', 'the cursor is not one this listing handed out');
}

/** The id of an audit page's last event. */
export function decodeAuditCursor(cursor: string): number {
  const key = decodeCursor(cursor);
  if (Array.isArray(key) && key.length === 1 && Number.isSafeInteger(key[0]) && key[0] >= 1 && key[0] <= MAX_EVENT_ID) return key[0] as number;
  throw new AgreementStoreError('BAD_CURSOR', 'the cursor is not one this listing handed out');
}

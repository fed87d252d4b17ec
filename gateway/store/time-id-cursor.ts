/** A page's position in a table listed newest first by `(occurred_at, id)` with uuid ids: the last row's time and id. */
export interface TimeIdPosition {
  readonly occurredAt: Date;
  readonly id: string;
}

const ROW_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The cursor after `last`: opaque to callers, read back by {@link decodeTimeIdCursor}. */
export function encodeTimeIdCursor(last: TimeIdPosition): string {
  return Buffer.from(JSON.stringify([last.occurredAt.toISOString(), last.id])).toString('base64url');
}

/**
 * Only what {@link encodeTimeIdCursor} wrote; anything else would reach
 * PostgreSQL as a uuid or timestamp it cannot read.
 *
 * @throws RangeError `not a cursor of <what>`.
 */
export function decodeTimeIdCursor(cursor: string, what: string): TimeIdPosition {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    const occurredAt = new Date(String(at));
    if (typeof at === 'string' && typeof id === 'string' && ROW_ID.test(id) && occurredAt.toISOString() === at) return { occurredAt, id };
  } catch {
    // fall through to the refusal
  }
  throw new RangeError(`not a cursor of ${what}`);
}

import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { StoreSchema } from '../store/store-schema.ts';
import { decodeTimeIdCursor, encodeTimeIdCursor } from '../store/time-id-cursor.ts';

/** What a security event is about. */
export type SecurityEventKind = 'TOKEN_REFUSED' | 'OPERATION_REFUSED' | 'QUOTA_REFUSED' | 'THROTTLED' | 'ADMIN_ACTION' | 'ACCESS_REFUSED';
/** Every kind, in the order filters offer them. */
export const SECURITY_EVENT_KINDS: readonly SecurityEventKind[] = ['TOKEN_REFUSED', 'OPERATION_REFUSED', 'QUOTA_REFUSED', 'THROTTLED', 'ACCESS_REFUSED', 'ADMIN_ACTION'];

/** One event as the recorder hands it in: who (as far as known), what, from where. Never a token, never a variable's value. */
export interface SecurityEvent {
  readonly kind: SecurityEventKind;
  readonly reason: string;
  readonly outcome: 'DONE' | 'REFUSED';
  /** `POST /graphql`, `POST /admin/api/agreements/:id/approve`: the route's pattern, not the path with its ids. */
  readonly route: string;
  readonly status?: number;
  readonly requestId?: string;
  readonly clientAddress?: string;
  readonly bureau?: string;
  readonly app?: string;
  readonly user?: string;
  /** The verified token's issuer and subject, or the issuer and key id the refused token claimed (unverified, bounded). */
  readonly issuer?: string;
  readonly subject?: string;
  readonly keyId?: string;
  /** Particulars that are not personal data: an agreement id, a rule. */
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

/** One stored event, as auditors read it. */
export interface SecurityEventRecord extends SecurityEvent {
  readonly id: string;
  readonly occurredAt: Date;
  readonly detail: Readonly<Record<string, string | number | boolean>>;
}

/** Filters of {@link SecurityEventStore.list}; `from` inclusive, `to` exclusive. */
export interface SecurityEventQuery {
  readonly kind?: SecurityEventKind;
  readonly reason?: string;
  /** The client address exactly as recorded (`192.0.2.7`, `2001:db8::1`). */
  readonly clientAddress?: string;
  readonly from?: Date;
  readonly to?: Date;
  readonly cursor?: string;
  readonly limit?: number;
}

/** Rows per page when the caller does not say, and the most one page holds. */
export const DEFAULT_SECURITY_EVENTS_PAGE_SIZE = 50;
export const MAX_SECURITY_EVENTS_PAGE_SIZE = 200;

/** The table `security_events` (append-only by migration 0012). */
export interface SecurityEventStore {
  /** Inserts a batch in one statement, each event stamped with its own time. */
  insert(events: readonly { readonly at: Date; readonly event: SecurityEvent }[]): Promise<void>;
  /** One page, newest first; `cursor` is the last page's `nextCursor`. */
  list(query: SecurityEventQuery): Promise<{ readonly items: readonly SecurityEventRecord[]; readonly nextCursor?: string }>;
}

/** The security events over the gateway's store. */
export function createSecurityEventStore(db: Kysely<StoreSchema>): SecurityEventStore {
  return {
    async insert(events) {
      if (events.length === 0) return;
      await db
        .insertInto('security_events')
        .values(
          events.map(({ at, event }) => ({
            id: randomUUID(),
            occurred_at: at,
            kind: event.kind,
            reason: event.reason,
            outcome: event.outcome,
            route: event.route,
            status: event.status ?? null,
            request_id: event.requestId ?? null,
            client_address: event.clientAddress ?? null,
            bureau: event.bureau ?? null,
            app: event.app ?? null,
            user_id: event.user ?? null,
            issuer: event.issuer ?? null,
            subject: event.subject ?? null,
            key_id: event.keyId ?? null,
            detail: JSON.stringify(event.detail ?? {}),
          })),
        )
        .execute();
    },
    async list(query) {
      const limit = query.limit ?? DEFAULT_SECURITY_EVENTS_PAGE_SIZE;
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_SECURITY_EVENTS_PAGE_SIZE) throw new RangeError(`limit must be from 1 to ${MAX_SECURITY_EVENTS_PAGE_SIZE}`);
      const after = query.cursor === undefined ? undefined : decodeTimeIdCursor(query.cursor, 'the security events');
      const rows = await db
        .selectFrom('security_events')
        .selectAll()
        .$if(query.kind !== undefined, (q) => q.where('kind', '=', query.kind!))
        .$if(query.reason !== undefined, (q) => q.where('reason', '=', query.reason!))
        .$if(query.clientAddress !== undefined, (q) => q.where('client_address', '=', query.clientAddress!))
        .$if(query.from !== undefined, (q) => q.where('occurred_at', '>=', query.from!))
        .$if(query.to !== undefined, (q) => q.where('occurred_at', '<', query.to!))
        .$if(after !== undefined, (q) => q.where(({ eb, refTuple, tuple }) => eb(refTuple('occurred_at', 'id'), '<', tuple(after!.occurredAt, after!.id))))
        .orderBy('occurred_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit + 1)
        .execute();
      const items = rows.slice(0, limit).map(
        (row): SecurityEventRecord => ({
          id: row.id,
          occurredAt: new Date(row.occurred_at),
          kind: row.kind as SecurityEventKind,
          reason: row.reason,
          outcome: row.outcome as SecurityEvent['outcome'],
          route: row.route,
          ...(row.status !== null && { status: row.status }),
          ...(row.request_id !== null && { requestId: row.request_id }),
          ...(row.client_address !== null && { clientAddress: row.client_address }),
          ...(row.bureau !== null && { bureau: row.bureau }),
          ...(row.app !== null && { app: row.app }),
          ...(row.user_id !== null && { user: row.user_id }),
          ...(row.issuer !== null && { issuer: row.issuer }),
          ...(row.subject !== null && { subject: row.subject }),
          ...(row.key_id !== null && { keyId: row.key_id }),
          detail: row.detail,
        }),
      );
      const last = items.at(-1);
      return rows.length > limit && last ? { items, nextCursor: encodeTimeIdCursor(last) } : { items };
    },
  };
}

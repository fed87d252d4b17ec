import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Principal } from '../../policies/principal.ts';
import { LOG_WRITER_ROLE } from '../access-log/access-log-writer.ts';
import type { StoreSchema } from '../store/store-schema.ts';
import { decodeTimeIdCursor, encodeTimeIdCursor } from '../store/time-id-cursor.ts';

/** What a person can do in the console that the trail records. */
export type ConsoleAuditAction = 'SIGN_IN' | 'SIGN_OUT' | 'DECISION' | 'EXPORT' | 'VERIFY' | 'SECURITY_EVENTS_VIEW' | 'SECURITY_EVENTS_EXPORT';
/** Every action, in the order the auditor's filter offers them. */
export const CONSOLE_AUDIT_ACTIONS: readonly ConsoleAuditAction[] = ['SIGN_IN', 'SIGN_OUT', 'DECISION', 'EXPORT', 'VERIFY', 'SECURITY_EVENTS_VIEW', 'SECURITY_EVENTS_EXPORT'];

/** Rows per page of the trail when the caller does not say, and the most a page holds. */
export const DEFAULT_TRAIL_PAGE_SIZE = 50;
export const MAX_TRAIL_PAGE_SIZE = 200;
/** Bound on one write or read of the trail: a stuck database must not hold a console request for ever. */
export const DEFAULT_TRAIL_STATEMENT_TIMEOUT_MS = 5_000;

/** One thing a person did, as the caller hands it in. */
export interface ConsoleAuditEvent {
  readonly action: ConsoleAuditAction;
  readonly outcome: 'DONE' | 'REFUSED';
  /** Who did it: the session's principal. */
  readonly actor: Pick<Principal, 'bureau' | 'user' | 'subject' | 'roles'>;
  /** What it was about: an agreement id, an export's format. */
  readonly target?: string;
  /** Particulars without personal data (the caller hashes what could hold an ID number). */
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
  readonly requestId?: string;
}

/** One row of the trail as the auditor reads it. */
export interface ConsoleAuditRecord extends Omit<ConsoleAuditEvent, 'actor'> {
  readonly id: string;
  readonly occurredAt: Date;
  readonly bureau: string;
  readonly user: string;
  readonly roles: readonly string[];
  readonly detail: Readonly<Record<string, string | number | boolean>>;
}

/** The console's durable audit trail. */
export interface ConsoleAuditTrail {
  /** Appends one event and resolves once it is committed; the caller answers only then. */
  record(event: ConsoleAuditEvent, signal?: AbortSignal): Promise<void>;
  /** One page, newest first; `cursor` is the last page's `nextCursor`. */
  list(page: { readonly cursor?: string; readonly limit?: number; readonly action?: ConsoleAuditAction }, signal?: AbortSignal): Promise<{ readonly items: readonly ConsoleAuditRecord[]; readonly nextCursor?: string }>;
}

/**
 * The trail over the gateway's store (table `console_audit`, append-only by
 * migration 0005). Written under `isthmus_log_writer` when the gateway's user
 * may assume it, as the access log is: that role can add rows, never change them.
 *
 * @example
 * const trail = createConsoleAuditTrail({ db: store.db });
 * await trail.record({ action: 'SIGN_IN', outcome: 'DONE', actor: principal });
 */
export function createConsoleAuditTrail(deps: { readonly db: Kysely<StoreSchema>; readonly now?: () => Date; readonly statementTimeoutMs?: number }): ConsoleAuditTrail {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());
  const timeoutMs = deps.statementTimeoutMs ?? DEFAULT_TRAIL_STATEMENT_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) throw new TypeError('statementTimeoutMs must be a positive whole number');
  let asWriter: Promise<boolean> | undefined;
  const mayUseRole = () =>
    (asWriter ??= sql<{ member: boolean }>`select pg_has_role(current_user, r.oid, 'MEMBER') as member from pg_roles r where r.rolname = ${LOG_WRITER_ROLE}`
      .execute(db)
      .then((result) => result.rows[0]?.member === true));

  return {
    async record(event, signal) {
      signal?.throwIfAborted();
      const role = await mayUseRole();
      await db.transaction().execute(async (trx) => {
        await sql`select set_config('statement_timeout', ${String(timeoutMs)}, true)`.execute(trx);
        if (role) await sql`select set_config('role', ${LOG_WRITER_ROLE}, true)`.execute(trx);
        await trx
          .insertInto('console_audit')
          .values({
            id: randomUUID(),
            occurred_at: now(),
            action: event.action,
            outcome: event.outcome,
            bureau: event.actor.bureau,
            user_id: event.actor.user ?? event.actor.subject,
            roles: JSON.stringify(event.actor.roles),
            target: event.target ?? null,
            detail: JSON.stringify(event.detail ?? {}),
            request_id: event.requestId ?? null,
          })
          .execute();
      });
    },
    async list(page, signal) {
      signal?.throwIfAborted();
      const limit = page.limit ?? DEFAULT_TRAIL_PAGE_SIZE;
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_TRAIL_PAGE_SIZE) throw new RangeError(`limit must be from 1 to ${MAX_TRAIL_PAGE_SIZE}`);
      const after = page.cursor === undefined ? undefined : decodeTimeIdCursor(page.cursor, 'the console audit trail');
      const rows = await db
        .selectFrom('console_audit')
        .selectAll()
        .$if(page.action !== undefined, (query) => query.where('action', '=', page.action!))
        .$if(after !== undefined, (query) => query.where(({ eb, refTuple, tuple }) => eb(refTuple('occurred_at', 'id'), '<', tuple(after!.occurredAt, after!.id))))
        .orderBy('occurred_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit + 1)
        .execute();
      const items = rows.slice(0, limit).map(
        (row): ConsoleAuditRecord => ({
          id: row.id,
          occurredAt: new Date(row.occurred_at),
          action: row.action as ConsoleAuditAction,
          outcome: row.outcome as ConsoleAuditRecord['outcome'],
          bureau: row.bureau,
          user: row.user_id,
          roles: row.roles,
          ...(row.target !== null && { target: row.target }),
          detail: row.detail,
          ...(row.request_id !== null && { requestId: row.request_id }),
        }),
      );
      const last = items.at(-1);
      return rows.length > limit && last ? { items, nextCursor: encodeTimeIdCursor(last) } : { items };
    },
  };
}

import { sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Agreement, AgreementStatus } from '../../policies/agreement.ts';
import { expireAgreement, type AgreementEvent } from '../../policies/agreement-lifecycle.ts';
import type { StoreSchema } from '../store/store-schema.ts';
import type { AgreementEventsTable, AgreementsTable } from './agreement-tables.ts';
import { AgreementStoreError } from './agreement-store-error.ts';
import { quotaColumns, quotaOfRow } from './agreement-quota-columns.ts';
import { decodeAuditCursor, decodeListCursor, encodeCursor } from './agreement-cursor.ts';
import { caseIdColumns, caseIdOf } from './agreement-case-id-columns.ts';
import { operationsColumns, operationsOf } from './agreement-operations-columns.ts';

/** The channel every change of the agreement set is announced on; the payload is the set's new version. */
export const AGREEMENTS_CHANNEL = 'isthmus_agreements';
/** Rows per page when the caller does not say. */
export const DEFAULT_PAGE_SIZE = 50;
/** Most rows one page may hold. */
export const MAX_PAGE_SIZE = 200;

/** A step the lifecycle decided, to be stored: the agreement's next version and the event recording it. */
export interface AgreementChange {
  readonly agreement: Agreement;
  readonly event: AgreementEvent;
}

/** An event as stored: numbered, and with the version of the agreement set it produced. */
export interface StoredAgreementEvent extends AgreementEvent {
  readonly id: number;
  readonly setVersion: number;
}

/** An agreement with its whole history, oldest step first. */
export interface AgreementWithHistory {
  readonly agreement: Agreement;
  readonly events: readonly StoredAgreementEvent[];
}

/** One page of a listing; `nextCursor` is absent on the last page. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor?: string;
}

/** Filters of {@link AgreementStore.list}; all optional, combined with AND. */
export interface AgreementListFilter {
  readonly status?: AgreementStatus;
  readonly provider?: string;
  readonly consumer?: string;
  /** Only agreements this bureau provides or consumes (what its people may see). */
  readonly involving?: string;
  /** Only `PENDING` requests whose reply-by date is before `now`. */
  readonly overdue?: boolean;
  readonly now?: Date;
  readonly limit?: number;
  readonly cursor?: string;
}

/** Filters of {@link AgreementStore.audit}; all optional, combined with AND. */
export interface AgreementAuditFilter {
  /** The acting user id. */
  readonly actor?: string;
  readonly agreementId?: string;
  /** Events of agreements this bureau provides or consumes. */
  readonly bureau?: string;
  /** Events at or after this instant. */
  readonly from?: Date;
  /** Events before this instant. */
  readonly until?: Date;
  readonly limit?: number;
  readonly cursor?: string;
}

/** The agreements in force or about to be, with the version of the set they were read at. */
export interface AgreementSnapshot {
  readonly version: number;
  readonly agreements: readonly Agreement[];
}

/**
 * Sharing agreements in the gateway's database. Every change writes the
 * agreement's new version, its event and the set's new version in one
 * transaction, and announces the new set version on {@link AGREEMENTS_CHANNEL};
 * PostgreSQL delivers that notification only when the transaction commits.
 */
export interface AgreementStore {
  /** Stores a new agreement (version 1) with its first event; `CONFLICT` if the id is taken. */
  create(change: AgreementChange): Promise<StoredAgreementEvent>;
  /**
   * Stores the next version of an agreement, if the stored one is still the
   * version the change was decided on (`agreement.version - 1`); otherwise
   * throws `CONFLICT`, and the caller reloads and decides again.
   */
  transition(change: AgreementChange): Promise<StoredAgreementEvent>;
  get(id: string): Promise<AgreementWithHistory | undefined>;
  /** Newest first. */
  list(filter?: AgreementListFilter): Promise<Page<Agreement>>;
  /** Events, newest first. */
  audit(filter?: AgreementAuditFilter): Promise<Page<StoredAgreementEvent>>;
  /**
   * Every `ACTIVE` agreement whose window has not ended at `now` (some may
   * not have started yet: readers check `validFrom`), read in one snapshot
   * with the set version.
   */
  activeSnapshot(now: Date): Promise<AgreementSnapshot>;
  /** The set's version: it moves with every change of any agreement. */
  setVersion(): Promise<number>;
  /** Records `EXPIRED` for every `ACTIVE` agreement whose window ended before `now`; returns those this call expired. */
  expireDue(now: Date): Promise<readonly Agreement[]>;
}

type AgreementRow = Selectable<AgreementsTable>;
type EventRow = Selectable<AgreementEventsTable>;

/**
 * The agreement store over the gateway's kysely instance (PostgreSQL or PGlite).
 *
 * @example
 * const agreements = createAgreementStore(store.db);
 * const result = approveAgreement(current, principal, {}, new Date(), catalogue);
 * if (result.ok) await agreements.transition(result);
 */
export function createAgreementStore(db: Kysely<StoreSchema>): AgreementStore {
  const store: AgreementStore = {
    async create(change) {
      check(change, 1);
      try {
        return await db.transaction().execute(async (trx) => {
          await trx.insertInto('agreements').values(toRow(change.agreement)).execute();
          return record(trx, change.event);
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new AgreementStoreError('CONFLICT', `an agreement with id ${change.agreement.id} already exists`, { cause: error });
        throw error;
      }
    },

    async transition(change) {
      check(change, change.agreement.version);
      const { id, ...values } = toRow(change.agreement);
      const conflict = () => new AgreementStoreError('CONFLICT', `agreement ${id} was changed by someone else since version ${change.agreement.version - 1}; reload it and try again`);
      try {
        return await db.transaction().execute(async (trx) => {
          const updated = await trx
            .updateTable('agreements')
            .set(values)
            .where('id', '=', id)
            .where('version', '=', change.agreement.version - 1)
            .executeTakeFirst();
          if (Number(updated.numUpdatedRows) !== 1) throw conflict();
          return record(trx, change.event);
        });
      } catch (error) {
        // Two writers that both passed the version check meet at the one-event-per-version constraint.
        if (isUniqueViolation(error)) throw conflict();
        throw error;
      }
    },

    async get(id) {
      const row = await db.selectFrom('agreements').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) return undefined;
      const events = await db.selectFrom('agreement_events').selectAll().where('agreement_id', '=', id).orderBy('version', 'asc').execute();
      return { agreement: withRequester(fromRow(row), events), events: events.map(fromEventRow) };
    },

    async list(filter = {}) {
      const limit = pageSize(filter.limit);
      let query = db.selectFrom('agreements').selectAll();
      if (filter.status) query = query.where('status', '=', filter.status);
      if (filter.provider) query = query.where('provider_bureau', '=', filter.provider);
      if (filter.consumer) query = query.where('consumer_bureau', '=', filter.consumer);
      const involving = filter.involving;
      if (involving) query = query.where((eb) => eb.or([eb('provider_bureau', '=', involving), eb('consumer_bureau', '=', involving)]));
      if (filter.overdue) query = query.where('status', '=', 'PENDING').where('reply_by', '<', filter.now ?? new Date());
      if (filter.cursor) {
        const [createdAt, id] = decodeListCursor(filter.cursor);
        query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(createdAt, id)));
      }
      const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
      const items = rows.slice(0, limit).map(fromRow);
      const last = items.at(-1);
      return rows.length > limit && last ? { items, nextCursor: encodeCursor([last.createdAt, last.id]) } : { items };
    },

    async audit(filter = {}) {
      const limit = pageSize(filter.limit);
      let query = db.selectFrom('agreement_events').selectAll();
      if (filter.actor) query = query.where('actor_user', '=', filter.actor);
      if (filter.agreementId) query = query.where('agreement_id', '=', filter.agreementId);
      const bureau = filter.bureau;
      if (bureau) query = query.where((eb) => eb.or([eb('provider_bureau', '=', bureau), eb('consumer_bureau', '=', bureau)]));
      if (filter.from) query = query.where('at', '>=', filter.from);
      if (filter.until) query = query.where('at', '<', filter.until);
      if (filter.cursor) query = query.where('id', '<', decodeAuditCursor(filter.cursor));
      const rows = await query.orderBy('id', 'desc').limit(limit + 1).execute();
      const items = rows.slice(0, limit).map(fromEventRow);
      const last = items.at(-1);
      return rows.length > limit && last ? { items, nextCursor: encodeCursor([last.id]) } : { items };
    },

    activeSnapshot(now) {
      // Repeatable read: the version and the rows come from one snapshot, so
      // a reader never pairs a new version with old rows (and stops looking).
      return db
        .transaction()
        .setIsolationLevel('repeatable read')
        .execute(async (trx) => {
          const { version } = await trx.selectFrom('agreement_set_version').select('version').executeTakeFirstOrThrow();
          const rows = await trx.selectFrom('agreements').selectAll().where('status', '=', 'ACTIVE').where('valid_until', '>', now).orderBy('id').execute();
          return { version, agreements: rows.map(fromRow) };
        });
    },

    async setVersion() {
      const { version } = await db.selectFrom('agreement_set_version').select('version').executeTakeFirstOrThrow();
      return version;
    },

    async expireDue(now) {
      const due = await db.selectFrom('agreements').selectAll().where('status', '=', 'ACTIVE').where('valid_until', '<=', now).orderBy('id').execute();
      const expired: Agreement[] = [];
      for (const row of due) {
        const result = expireAgreement(fromRow(row), now);
        if (!result.ok) continue;
        try {
          await store.transition(result);
          expired.push(result.agreement);
        } catch (error) {
          // Another gateway process expired or revoked it first: nothing left to do.
          if (error instanceof AgreementStoreError && error.code === 'CONFLICT') continue;
          throw error;
        }
      }
      return expired;
    },
  };
  return store;
}

/** The event, the set version bump and the notification: the part of every change that is the same. */
async function record(trx: Transaction<StoreSchema>, event: AgreementEvent): Promise<StoredAgreementEvent> {
  // The row lock taken here also puts concurrent changes in one order.
  const { version: setVersion } = await trx
    .updateTable('agreement_set_version')
    .set((eb) => ({ version: eb('version', '+', 1) }))
    .returning('version')
    .executeTakeFirstOrThrow();
  const row = await trx
    .insertInto('agreement_events')
    .values({
      agreement_id: event.agreementId,
      version: event.version,
      action: event.action,
      actor_user: event.actor.user,
      actor_bureau: event.actor.bureau,
      actor_roles: JSON.stringify(event.actor.roles),
      consumer_bureau: event.agreement.consumerBureau,
      provider_bureau: event.agreement.providerBureau,
      at: event.at,
      reason: event.reason ?? null,
      set_version: setVersion,
      snapshot: JSON.stringify(event.agreement),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  // Sent inside the transaction: PostgreSQL (and PGlite) deliver it on commit, and never after a rollback.
  await sql`select pg_notify(${AGREEMENTS_CHANNEL}, ${String(setVersion)})`.execute(trx);
  return fromEventRow(row);
}

/** A change whose event does not describe its agreement is a programming error, not a conflict. */
function check(change: AgreementChange, version: number): void {
  const { agreement, event } = change;
  if (agreement.version !== version || event.agreementId !== agreement.id || event.version !== agreement.version) {
    throw new TypeError(`inconsistent agreement change for ${agreement.id} (version ${agreement.version}, event version ${event.version})`);
  }
}

function toRow(agreement: Agreement): Insertable<AgreementsTable> {
  return {
    id: agreement.id,
    version: agreement.version,
    consumer_bureau: agreement.consumerBureau,
    consumer_app: agreement.consumerApp,
    provider_bureau: agreement.providerBureau,
    fields: JSON.stringify(agreement.fields),
    masks: JSON.stringify(agreement.masks),
    purpose: agreement.purpose,
    legal_basis: agreement.legalBasis,
    row_scope: agreement.rowScope,
    scope: agreement.scope,
    valid_from: agreement.validFrom,
    valid_until: agreement.validUntil,
    status: agreement.status,
    requested_by: agreement.requestedBy,
    approved_by: agreement.approvedBy ?? null,
    reply_by: agreement.replyBy ?? null,
    rejection_reason: agreement.rejectionReason ?? null,
    revocation_reason: agreement.revocationReason ?? null,
    disclosure_delay_days: agreement.disclosureDelay?.days ?? null,
    disclosure_delay_reason: agreement.disclosureDelay?.legalReason ?? null,
    ...quotaColumns(agreement),
    ...caseIdColumns(agreement),
    ...operationsColumns(agreement),
    created_at: agreement.createdAt,
    updated_at: agreement.updatedAt,
  };
}

function fromRow(row: AgreementRow): Agreement {
  return {
    id: row.id,
    version: row.version,
    consumerBureau: row.consumer_bureau,
    consumerApp: row.consumer_app,
    providerBureau: row.provider_bureau,
    fields: row.fields,
    masks: row.masks,
    purpose: row.purpose,
    legalBasis: row.legal_basis,
    rowScope: row.row_scope,
    scope: row.scope,
    validFrom: iso(row.valid_from),
    validUntil: iso(row.valid_until),
    status: row.status,
    requestedBy: row.requested_by,
    ...(row.approved_by === null ? {} : { approvedBy: row.approved_by }),
    ...(row.reply_by === null ? {} : { replyBy: iso(row.reply_by) }),
    ...(row.rejection_reason === null ? {} : { rejectionReason: row.rejection_reason }),
    ...(row.revocation_reason === null ? {} : { revocationReason: row.revocation_reason }),
    ...(row.disclosure_delay_days === null ? {} : { disclosureDelay: { days: row.disclosure_delay_days, legalReason: row.disclosure_delay_reason ?? '' } }),
    ...quotaOfRow(row),
    ...caseIdOf(row),
    ...operationsOf(row),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

/**
 * The requester's stable identity (issuer and subject) is not a column: it rides in the event
 * snapshots from the request on, so it is read from the first (a later one could only repeat it).
 */
function withRequester(agreement: Agreement, events: readonly EventRow[]): Agreement {
  const requester = events[0]?.snapshot.requester;
  if (!requester || typeof requester.issuer !== 'string' || typeof requester.subject !== 'string') return agreement;
  return { ...agreement, requester: { issuer: requester.issuer, subject: requester.subject } };
}

function fromEventRow(row: EventRow): StoredAgreementEvent {
  return {
    id: row.id,
    setVersion: row.set_version,
    agreementId: row.agreement_id,
    version: row.version,
    action: row.action,
    actor: { user: row.actor_user, bureau: row.actor_bureau, roles: row.actor_roles },
    at: iso(row.at),
    ...(row.reason === null ? {} : { reason: row.reason }),
    agreement: row.snapshot,
  };
}

const iso = (value: Date | string): string => (value instanceof Date ? value : new Date(value)).toISOString();

const pageSize = (limit: number | undefined): number => (limit === undefined ? DEFAULT_PAGE_SIZE : Math.min(Math.max(1, Math.trunc(limit)), MAX_PAGE_SIZE));

/** PostgreSQL's `unique_violation`, as both `pg` and PGlite report it. */
function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && (error as { code: unknown }).code === '23505';
}

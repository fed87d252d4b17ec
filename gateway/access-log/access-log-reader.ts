import { sql, type Kysely } from 'kysely';
import type { AccessLogEntryInput, AccessOutcome, DataSubject } from './access-log-entry.ts';
import { AccessLogBadQueryError, AccessLogForbiddenError } from './access-log-error.ts';
import { recordFromRow } from './access-log-record.ts';
import type { Principal } from '../../policies/principal.ts';
import type { StoreSchema } from '../store/store-schema.ts';
import type { LogReceipt } from '../../packages/isthmus-log-proofs/src/index.ts';
import type { EntryPlacement } from './receipt-source.ts';

/** Entries per page when the caller does not say. */
export const DEFAULT_READ_PAGE_SIZE = 50;
/** Most entries one page may hold. */
export const MAX_READ_PAGE_SIZE = 500;

const OUTCOMES: readonly AccessOutcome[] = ['ALLOWED', 'PARTIAL', 'DENIED', 'FAILED'];

/**
 * Which rows a viewer sees, decided by role (the broadest role wins).
 * `auditor` sees every row, as `operator` does, but under its own name: the
 * audit duty is kept apart from the operator's (level-3 separation of duties),
 * and its reads say so in their `LOG_READ` entries.
 */
export type AccessLogView = 'auditor' | 'operator' | 'data_officer' | 'citizen';

/** Narrow the rows a viewer may see; every filter is optional and they combine with AND. */
export interface AccessLogFilters {
  /** occurred at or after */
  readonly from?: Date;
  /** occurred before */
  readonly until?: Date;
  readonly consumer?: string;
  readonly provider?: string;
  readonly purpose?: string;
  readonly subject?: DataSubject;
  readonly outcome?: AccessOutcome;
  /** Entries made under this agreement. */
  readonly agreement?: string;
  /** The one entry with this id (an entry's detail), still under the viewer's rules. */
  readonly entryId?: string;
}

/** Keyset pagination, newest first: pass the last page's `nextCursor` as `cursor`. */
export interface AccessLogPageRequest {
  readonly cursor?: string;
  /** Default {@link DEFAULT_READ_PAGE_SIZE}, at most {@link MAX_READ_PAGE_SIZE}. */
  readonly limit?: number;
}

/**
 * An entry's receipt, when the read asked for receipts (`readAccessLogRecorded`):
 * the inclusion proof against the latest quorum-cosigned checkpoint that covers
 * it (`verifyReceipt` checks it), or `null` and when to look again.
 */
export interface ReceiptFields {
  readonly receipt?: LogReceipt | null;
  /** Present when `receipt` is null: no cosigned checkpoint covers the entry yet; one should by then. */
  readonly receiptCheckAfter?: Date;
  /** Present when `receipt` is null for good: the entry's chain predates the log's tree, and only its hash chain covers it. */
  readonly receiptUnavailable?: 'LEGACY_CHAIN';
}

/** An entry as data officers and operators see it: all of it, and whether its citizens cannot see it yet. */
export interface AuditedAccessLogItem extends AccessLogEntryInput, ReceiptFields {
  readonly id: string;
  readonly chainId: string;
  readonly seq: number;
  /** `disclosure.hiddenUntil` is still in the future: its data subjects do not see this entry yet (`disclosure.legalReason` says why). */
  readonly hidden: boolean;
}

/**
 * An entry as the citizen it is about sees it: which bureau read which of
 * their data, when, and why. Not the other data subjects of the operation,
 * not the officer's name, not the case file.
 */
export interface CitizenAccessLogItem extends ReceiptFields {
  readonly id: string;
  readonly occurredAt: Date;
  readonly action: AccessLogEntryInput['action'];
  readonly consumerBureau: string;
  readonly clientApp: string;
  readonly providerBureaus: readonly string[];
  readonly fields: AccessLogEntryInput['fieldsReturned'];
  readonly purpose?: string;
  /** The agreements the read was made under; the citizen's page shows their legal basis. */
  readonly agreementIds: readonly string[];
  /** The same agreements with the legal basis recorded at the read; absent on entries written before it was recorded. */
  readonly agreements?: AccessLogEntryInput['agreements'];
  readonly outcome: AccessOutcome;
}

/** One page of the log as the viewer may see it. */
export type AccessLogReadResult = (
  | { readonly view: 'auditor' | 'operator' | 'data_officer'; readonly items: readonly AuditedAccessLogItem[] }
  | { readonly view: 'citizen'; readonly items: readonly CitizenAccessLogItem[] }
) & {
  /** Present when there may be more. */
  readonly nextCursor?: string;
  /** The data subjects this page discloses to the viewer, for the `LOG_READ` entry that records the read. */
  readonly subjectsShown: readonly DataSubject[];
  /** The provider bureaus of the entries shown. */
  readonly providersShown: readonly string[];
  /** Each item's place in its chain (parallel to `items`), for its receipt; never sent as it is. */
  readonly placements: readonly EntryPlacement[];
};

/**
 * The view a principal gets: `auditor` and `operator` see everything, `data_officer`
 * sees entries where their bureau is the provider or the consumer, a
 * `citizen` (with a citizen id in the token) sees entries about themselves.
 * Anyone else is refused.
 *
 * @throws AccessLogForbiddenError
 */
export function accessLogViewOf(viewer: Principal): AccessLogView {
  if (viewer.roles.includes('auditor')) return 'auditor';
  if (viewer.roles.includes('operator')) return 'operator';
  if (viewer.roles.includes('data_officer')) return 'data_officer';
  if (viewer.roles.includes('citizen')) {
    if (!viewer.citizen) throw new AccessLogForbiddenError('a citizen token without a citizen id cannot read the access log');
    return 'citizen';
  }
  throw new AccessLogForbiddenError('reading the access log needs the auditor, operator, data_officer or citizen role');
}

/**
 * Reads one page of the access log as `viewer` may see it, newest first.
 * Reading the log is itself an access to personal data: the caller records
 * it (the access log API appends a `LOG_READ` entry before it answers).
 *
 * Citizens never see entries whose `disclosure.hiddenUntil` is in the
 * future (judged by `options.now`), nor their own earlier reads of the log; officers
 * and operators see those entries with `hidden: true` and the legal reason.
 *
 * @throws AccessLogForbiddenError when the viewer may not read the log, or a citizen filters on another subject.
 * @throws AccessLogBadQueryError for a malformed filter, cursor or limit.
 * @example
 * const page = await readAccessLog(store.db, principal, { provider: 'public-security' }, { limit: 20 });
 */
export async function readAccessLog(
  db: Kysely<StoreSchema>,
  viewer: Principal,
  filters: AccessLogFilters,
  page: AccessLogPageRequest = {},
  options: { readonly now?: Date; readonly signal?: AbortSignal } = {},
): Promise<AccessLogReadResult> {
  const now = options.now ?? new Date();
  const view = accessLogViewOf(viewer);
  checkFilters(filters);
  const limit = page.limit ?? DEFAULT_READ_PAGE_SIZE;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_READ_PAGE_SIZE) throw new AccessLogBadQueryError('limit', `must be a whole number from 1 to ${MAX_READ_PAGE_SIZE}`);
  const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);

  let subject = filters.subject;
  if (view === 'citizen') {
    const self: DataSubject = { kind: 'person', id: viewer.citizen! };
    if (subject && (subject.kind !== self.kind || subject.id !== self.id)) throw new AccessLogForbiddenError('a citizen may only read entries about themselves');
    subject = self;
  }
  options.signal?.throwIfAborted();

  const rows = await db
    .selectFrom('access_log')
    .selectAll()
    .$if(view === 'data_officer', (query) =>
      query.where(({ eb, or }) => or([eb('consumer_bureau', '=', viewer.bureau), sql<boolean>`provider_bureaus @> ${JSON.stringify([viewer.bureau])}::jsonb`])),
    )
    .$if(view === 'citizen', (query) =>
      query
        .where(({ eb, or }) => or([eb('hidden_until', 'is', null), eb('hidden_until', '<=', now)]))
        // A citizen's own reads of the log would otherwise fill their own feed.
        .where(({ eb, or }) => or([eb('action', '!=', 'LOG_READ'), eb('citizen', 'is', null), eb('citizen', '!=', viewer.citizen!)])),
    )
    .$if(subject !== undefined, (query) => query.where(aboutSubject(subject!, filters, after)))
    .$if(filters.from !== undefined, (query) => query.where('occurred_at', '>=', filters.from!))
    .$if(filters.until !== undefined, (query) => query.where('occurred_at', '<', filters.until!))
    .$if(filters.consumer !== undefined, (query) => query.where('consumer_bureau', '=', filters.consumer!))
    .$if(filters.provider !== undefined, (query) => query.where(sql<boolean>`provider_bureaus @> ${JSON.stringify([filters.provider])}::jsonb`))
    .$if(filters.purpose !== undefined, (query) => query.where('purpose', '=', filters.purpose!))
    .$if(filters.outcome !== undefined, (query) => query.where('outcome', '=', filters.outcome!))
    .$if(filters.agreement !== undefined, (query) => query.where(sql<boolean>`agreement_ids @> ${JSON.stringify([filters.agreement])}::jsonb`))
    .$if(filters.entryId !== undefined, (query) => query.where('id', '=', filters.entryId!))
    .$if(after !== undefined, (query) => query.where(({ eb, refTuple, tuple }) => eb(refTuple('occurred_at', 'id'), '<', tuple(after!.occurredAt, after!.id))))
    .orderBy('occurred_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();

  const more = rows.length > limit;
  const records = rows.slice(0, limit).map(recordFromRow);
  const last = records.at(-1);
  const nextCursor = more && last ? encodeCursor(last.entry.occurredAt, last.id) : undefined;
  const providersShown = distinct(records.flatMap((record) => record.entry.providerBureaus));
  const placements = records.map(({ chainId, seq, hash }) => ({ chainId, seq, hash }));

  if (view === 'citizen') {
    return {
      view,
      items: records.map(({ id, entry }) => ({
        id,
        occurredAt: entry.occurredAt,
        action: entry.action,
        consumerBureau: entry.consumerBureau,
        clientApp: entry.clientApp,
        providerBureaus: entry.providerBureaus,
        fields: entry.fieldsReturned,
        ...(entry.purpose !== undefined && { purpose: entry.purpose }),
        agreementIds: entry.agreementIds,
        ...(entry.agreements !== undefined && { agreements: entry.agreements }),
        outcome: entry.outcome,
      })),
      ...(nextCursor && { nextCursor }),
      subjectsShown: records.length > 0 ? [subject!] : [],
      providersShown,
      placements,
    };
  }
  const subjects = new Map<string, DataSubject>();
  for (const record of records) for (const shown of record.entry.subjects) subjects.set(`${shown.kind}:${shown.id}`, { kind: shown.kind, id: shown.id });
  return {
    view,
    items: records.map(({ id, chainId, seq, entry }) => ({
      ...entry,
      id,
      chainId,
      seq,
      hidden: entry.disclosure !== undefined && entry.disclosure.hiddenUntil.getTime() > now.getTime(),
    })),
    ...(nextCursor && { nextCursor }),
    subjectsShown: [...subjects.values()],
    providersShown,
    placements,
  };
}

/**
 * `(id, occurred_at) in (…subject index…)`, with the time bounds repeated
 * inside so the subject index's partitions are pruned too.
 */
function aboutSubject(subject: DataSubject, filters: AccessLogFilters, after: { occurredAt: Date } | undefined) {
  const bounds = [
    sql`subject_kind = ${subject.kind}`,
    sql`subject_id = ${subject.id}`,
    ...(filters.from ? [sql`occurred_at >= ${filters.from}`] : []),
    ...(filters.until ? [sql`occurred_at < ${filters.until}`] : []),
    ...(after ? [sql`occurred_at <= ${after.occurredAt}`] : []),
  ];
  return sql<boolean>`(access_log.id, access_log.occurred_at) in (select entry_id, occurred_at from access_log_subjects where ${sql.join(bounds, sql` and `)})`;
}

function checkFilters(filters: AccessLogFilters): void {
  for (const name of ['from', 'until'] as const) {
    const value = filters[name];
    if (value !== undefined && !(value instanceof Date && storableInstant(value))) throw new AccessLogBadQueryError(name, 'must be a valid date in the years 1–9999');
  }
  if (filters.entryId !== undefined && !(typeof filters.entryId === 'string' && ENTRY_ID.test(filters.entryId))) throw new AccessLogBadQueryError('entryId', 'must be an entry id as the log writes them');
  for (const name of ['consumer', 'provider', 'purpose', 'agreement'] as const) {
    const value = filters[name];
    if (value !== undefined && (typeof value !== 'string' || value === '' || !value.isWellFormed() || value.includes('\u0000'))) throw new AccessLogBadQueryError(name, 'must be a non-empty string');
  }
  if (filters.outcome !== undefined && !OUTCOMES.includes(filters.outcome)) throw new AccessLogBadQueryError('outcome', `must be one of ${OUTCOMES.join(', ')}`);
  const subject = filters.subject;
  if (subject !== undefined && ((subject.kind !== 'person' && subject.kind !== 'enterprise') || typeof subject.id !== 'string' || subject.id === '' || !subject.id.isWellFormed() || subject.id.includes('\u0000'))) {
    throw new AccessLogBadQueryError('subject', 'must be person:<id> or enterprise:<id>');
  }
}

/** Opaque to clients: base64url of the last row's (occurred_at, id). */
function encodeCursor(occurredAt: Date, id: string): string {
  return Buffer.from(JSON.stringify([occurredAt.toISOString(), id])).toString('base64url');
}

/** An entry id as the writer draws them (`randomUUID`): the cursor's id goes to a `uuid` column, which refuses anything else. */
const ENTRY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Only what {@link encodeCursor} writes: anything else would reach PostgreSQL as a uuid or a timestamp it cannot read. */
function decodeCursor(cursor: string): { occurredAt: Date; id: string } {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  if (Array.isArray(key) && key.length === 2) {
    const [at, id] = key as [unknown, unknown];
    const occurredAt = typeof at === 'string' ? new Date(at) : new Date(Number.NaN);
    if (typeof id === 'string' && ENTRY_ID.test(id) && storableInstant(occurredAt) && occurredAt.toISOString() === at) return { occurredAt, id };
  }
  throw new AccessLogBadQueryError('cursor', 'is not a cursor this API returned');
}

/** A date PostgreSQL's timestamptz holds as JavaScript wrote it. */
function storableInstant(at: Date): boolean {
  const year = at.getUTCFullYear();
  return !Number.isNaN(at.getTime()) && year >= 1 && year <= 9999;
}

function distinct(values: readonly string[]): readonly string[] {
  return [...new Set(values)];
}

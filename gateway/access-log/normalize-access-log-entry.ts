import type { AccessLogEntryInput, AccessOutcome, DataSubject } from './access-log-entry.ts';
import { AccessLogInvalidEntryError } from './access-log-error.ts';
import type { Role } from '../../policies/principal.ts';
import type { MaskKind } from '../../policies/catalogue.ts';

/** How old an entry's `occurredAt` may be when it is appended: no request, queue or retry lasts a day. */
export const MAX_ENTRY_AGE_MS = 24 * 60 * 60 * 1_000;
/** How far ahead of the writer's clock `occurredAt` may be (clock skew between a caller and the writer). */
export const MAX_ENTRY_LEAD_MS = 5 * 60 * 1_000;

const ACTIONS: ReadonlySet<string> = new Set(['READ', 'LOG_READ']);
const OUTCOMES: ReadonlySet<string> = new Set<AccessOutcome>(['ALLOWED', 'PARTIAL', 'DENIED', 'FAILED']);
const SUBJECT_KINDS: ReadonlySet<string> = new Set(['person', 'enterprise']);

/**
 * Checks that an entry can be stored and read back byte for byte, and copies
 * it into exactly the fields of the contract (extra properties are dropped,
 * lists become plain arrays of plain objects), because the hash is computed
 * over what is stored.
 *
 * Refusing here, per entry, matters: one unstorable entry in a batch would
 * otherwise fail the whole transaction and every other request's entry with
 * it. What is refused: strings with NUL (PostgreSQL text cannot hold it) or
 * lone surrogates (UTF-8 would turn them into U+FFFD and the hash would no
 * longer match), non-finite numbers, invalid dates, an `occurredAt` outside
 * [now − 1 day, now + 5 minutes] (so it always lands in a partition that
 * exists and is not about to be detached), and values outside the enums.
 * Messages name the field, never its value.
 *
 * @throws AccessLogInvalidEntryError
 */
export function normalizeAccessLogEntry(input: AccessLogEntryInput, now: Date): AccessLogEntryInput {
  if (typeof input !== 'object' || input === null) throw new AccessLogInvalidEntryError('entry', 'is not an object');
  const occurredAt = date('occurredAt', input.occurredAt);
  if (occurredAt.getTime() < now.getTime() - MAX_ENTRY_AGE_MS || occurredAt.getTime() > now.getTime() + MAX_ENTRY_LEAD_MS) {
    throw new AccessLogInvalidEntryError('occurredAt', 'is more than a day before or five minutes after the writer clock');
  }
  const action = text('action', input.action);
  if (!ACTIONS.has(action)) throw new AccessLogInvalidEntryError('action', 'is not READ or LOG_READ');
  const outcome = text('outcome', input.outcome);
  if (!OUTCOMES.has(outcome)) throw new AccessLogInvalidEntryError('outcome', 'is not ALLOWED, PARTIAL, DENIED or FAILED');
  const durationMs = input.durationMs;
  if (typeof durationMs !== 'number' || !Number.isFinite(durationMs)) throw new AccessLogInvalidEntryError('durationMs', 'is not a finite number');

  const disclosure = input.disclosure ?? undefined;
  if (disclosure !== undefined && (typeof disclosure !== 'object' || disclosure === null)) throw new AccessLogInvalidEntryError('disclosure', 'is not an object');

  return {
    requestId: text('requestId', input.requestId),
    occurredAt,
    action: action as AccessLogEntryInput['action'],
    consumerBureau: text('consumerBureau', input.consumerBureau),
    clientApp: text('clientApp', input.clientApp),
    ...optional('user', input.user),
    roles: list('roles', input.roles, (role, at) => text(at, role) as Role),
    ...optional('citizen', input.citizen),
    ...optional('purpose', input.purpose),
    ...optional('caseId', input.caseId),
    agreementIds: list('agreementIds', input.agreementIds, (id, at) => text(at, id)),
    ...(input.agreements != null && {
      agreements: list('agreements', input.agreements, (used, at) => {
        record(at, used);
        return { id: text(`${at}.id`, used.id), legalBasis: text(`${at}.legalBasis`, used.legalBasis), purpose: text(`${at}.purpose`, used.purpose) };
      }),
    }),
    providerBureaus: list('providerBureaus', input.providerBureaus, (id, at) => text(at, id)),
    fieldsRequested: list('fieldsRequested', input.fieldsRequested, (coordinate, at) => text(at, coordinate)),
    fieldsReturned: list('fieldsReturned', input.fieldsReturned, (field, at) => {
      record(at, field);
      const mask = field.mask ?? undefined;
      return { coordinate: text(`${at}.coordinate`, field.coordinate), ...(mask !== undefined && { mask: text(`${at}.mask`, mask) as MaskKind }) };
    }),
    denied: list('denied', input.denied, (field, at) => {
      record(at, field);
      return { coordinate: text(`${at}.coordinate`, field.coordinate), path: text(`${at}.path`, field.path), reason: text(`${at}.reason`, field.reason) };
    }),
    subjects: list('subjects', input.subjects, (subject, at): DataSubject => {
      record(at, subject);
      const kind = text(`${at}.kind`, subject.kind);
      if (!SUBJECT_KINDS.has(kind)) throw new AccessLogInvalidEntryError(`${at}.kind`, 'is not person or enterprise');
      const id = text(`${at}.id`, subject.id);
      if (id === '') throw new AccessLogInvalidEntryError(`${at}.id`, 'is empty');
      return { kind: kind as DataSubject['kind'], id };
    }),
    rowCounts: counts('rowCounts', input.rowCounts),
    upstreamErrors: list('upstreamErrors', input.upstreamErrors, (failure, at) => {
      record(at, failure);
      return { bureau: text(`${at}.bureau`, failure.bureau), reason: text(`${at}.reason`, failure.reason) };
    }),
    durationMs,
    operationHash: text('operationHash', input.operationHash),
    ...optional('operationName', input.operationName),
    outcome: outcome as AccessOutcome,
    ...(disclosure !== undefined && {
      disclosure: { hiddenUntil: date('disclosure.hiddenUntil', disclosure.hiddenUntil), legalReason: text('disclosure.legalReason', disclosure.legalReason) },
    }),
  };
}

function text(field: string, value: unknown): string {
  if (typeof value !== 'string') throw new AccessLogInvalidEntryError(field, 'is not a string');
  if (value.includes('\u0000')) throw new AccessLogInvalidEntryError(field, 'contains a NUL character');
  if (!value.isWellFormed()) throw new AccessLogInvalidEntryError(field, 'contains a lone surrogate');
  return value;
}

/** `null` is accepted as absent: the entry may come from JSON-ish code. */
function optional<K extends string>(field: K, value: unknown): { [key in K]?: string } {
  if (value === undefined || value === null) return {};
  return { [field]: text(field, value) } as { [key in K]?: string };
}

function date(field: string, value: unknown): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new AccessLogInvalidEntryError(field, 'is not a valid Date');
  return new Date(value.getTime());
}

function record(field: string, value: unknown): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) throw new AccessLogInvalidEntryError(field, 'is not an object');
}

function list<T, U>(field: string, value: readonly T[] | undefined, item: (value: T, at: string) => U): readonly U[] {
  if (!Array.isArray(value)) throw new AccessLogInvalidEntryError(field, 'is not a list');
  return value.map((element: T, index: number) => item(element, `${field}[${index}]`));
}

function counts(field: string, value: unknown): Readonly<Record<string, number>> {
  record(field, value);
  // No prototype, so a `__proto__` key is kept as data instead of being swallowed.
  const copy: Record<string, number> = Object.create(null);
  for (const [key, count] of Object.entries(value)) {
    text(`${field} key`, key);
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) throw new AccessLogInvalidEntryError(`${field}.${key}`, 'is not a whole number ≥ 0');
    copy[key] = count;
  }
  return copy;
}

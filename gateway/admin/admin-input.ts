import type { AgreementQuota, AgreementStatus } from '../../policies/agreement.ts';
import { QUOTA_KINDS } from '../../policies/agreement-quota.ts';
import type { AgreementRequestInput, ReasonInput } from '../../policies/agreement-lifecycle.ts';
import type { MaskKind } from '../../policies/catalogue.ts';
import type { AgreementAuditFilter, AgreementListFilter } from '../agreements/agreement-store.ts';
import { MAX_PAGE_SIZE } from '../agreements/agreement-store.ts';
import { ApiError } from '../errors/api-error.ts';
import { checkWellFormedInput } from '../http/check-well-formed-input.ts';
import { onlyKnownNames as only } from '../http/only-known-names.ts';
import { parseInstant } from '../http/parse-instant.ts';

/**
 * The shapes the admin API accepts, checked before anything is loaded: a
 * wrong type, an unknown property, text PostgreSQL cannot hold (a NUL, a
 * lone surrogate) or an instant it cannot read is a 400 naming it, and the
 * value is never quoted back. Whether the values make sense (a field of the
 * catalogue, a window of sane length) is the lifecycle's call, which names
 * the field the same way.
 */

/** A request body as the caller sent it: a JSON object, or nothing. */
export type Body = Readonly<Record<string, unknown>>;

const STATUSES: readonly AgreementStatus[] = ['DRAFT', 'PENDING', 'ACTIVE', 'REVOKED', 'EXPIRED', 'REJECTED'];
const REQUEST_KEYS: readonly string[] = [
  'consumerBureau',
  'consumerApp',
  'providerBureau',
  'fields',
  'masks',
  'purpose',
  'legalBasis',
  'rowScope',
  'scope',
  'validFrom',
  'validUntil',
  'disclosureDelay',
  'quota',
  'caseId',
  'operations',
  'submit',
];

/** Parses a JSON body text; empty means `{}`. Every string in it, property names too, must be text PostgreSQL can hold. */
export function parseBody(text: string): Body {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError('BAD_USER_INPUT', 'the request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ApiError('BAD_USER_INPUT', 'the request body must be a JSON object');
  checkWellFormedInput(value, '');
  return value as Body;
}

/** The body of `POST /agreements`. */
export function parseAgreementRequest(body: Body): Omit<AgreementRequestInput, 'id'> {
  only(body, REQUEST_KEYS, { top: 'body' });
  const masks = body.masks === undefined ? undefined : record(body.masks, 'masks');
  const delay = body.disclosureDelay === undefined ? undefined : record(body.disclosureDelay, 'disclosureDelay');
  if (delay) {
    only(delay, ['days', 'legalReason'], { within: 'disclosureDelay' });
  }
  return {
    ...optional('consumerBureau', body.consumerBureau),
    consumerApp: text(body.consumerApp, 'consumerApp'),
    providerBureau: text(body.providerBureau, 'providerBureau'),
    fields: textList(body.fields, 'fields'),
    ...(masks ? { masks: Object.fromEntries(Object.entries(masks).map(([coordinate, kind]) => [coordinate, text(kind, `masks.${coordinate}`) as MaskKind])) } : {}),
    purpose: text(body.purpose, 'purpose'),
    legalBasis: text(body.legalBasis, 'legalBasis'),
    rowScope: oneOf(body.rowScope, 'rowScope', ['ANY', 'SELF'] as const),
    ...optional('scope', body.scope),
    validFrom: isoInstant(body.validFrom, 'validFrom'),
    validUntil: isoInstant(body.validUntil, 'validUntil'),
    ...(delay ? { disclosureDelay: { days: integer(delay.days, 'disclosureDelay.days'), legalReason: text(delay.legalReason, 'disclosureDelay.legalReason') } } : {}),
    ...parseQuotaInput(body.quota),
    ...(body.submit === undefined ? {} : { submit: flag(body.submit, 'submit') }),
    ...caseIdTermOf(body.caseId),
    ...(body.operations === undefined ? {} : { operations: hashList(body.operations) }),
  };
}

/** `operations: ["sha256:<hex>", …]`, shape only: the terms (`policies/agreement-operations.ts`) check each hash, naming `operations[i]`. */
function hashList(value: unknown): string[] {
  if (!Array.isArray(value)) throw bad('operations', 'operations must be an array of document hashes, e.g. ["sha256:<64 hex digits>"]');
  return value.map((item, index) => text(item, `operations[${index}]`));
}

/** `quota: { requestsPerMinute?, recordsPerDay? }`, its numbers as given: the terms (`policies/agreement-quota.ts`) check their range. */
function parseQuotaInput(value: unknown): { readonly quota?: AgreementQuota } {
  if (value === undefined) return {};
  const quota = record(value, 'quota');
  only(quota, QUOTA_KINDS, { within: 'quota' });
  return { quota: Object.fromEntries(QUOTA_KINDS.flatMap((kind) => (quota[kind] === undefined ? [] : [[kind, quotaNumber(quota[kind], `quota.${kind}`)]]))) };
}

function quotaNumber(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw bad(field, `${field} must be a whole number`);
  return value;
}

/** `caseId: { required: true, format? }`, shape only: the lifecycle checks the term itself (agreement-case-id.ts), naming the field. */
function caseIdTermOf(value: unknown): Pick<AgreementRequestInput, 'caseId'> {
  if (value === undefined) return {};
  const term = record(value, 'caseId');
  only(term, ['required', 'format'], { within: 'caseId' });
  return { caseId: { required: flag(term.required, 'caseId.required'), ...(term.format === undefined ? {} : { format: text(term.format, 'caseId.format') }) } as NonNullable<AgreementRequestInput['caseId']> };
}

/** The body of `reject` and `revoke`. */
export function parseReason(body: Body): ReasonInput {
  only(body, ['reason', 'version'], { top: 'body' });
  return { reason: text(body.reason, 'reason') };
}

/** The body of `submit` and `approve`: nothing but an optional version. */
export function parseNoInput(body: Body): Record<string, never> {
  only(body, ['version'], { top: 'body' });
  return {};
}

/** The version the caller acted on, if they said: a mismatch is a `CONFLICT` before anything is decided. */
export function parseExpectedVersion(body: Body): number | undefined {
  return body.version === undefined ? undefined : integer(body.version, 'version');
}

/** Query of `GET /agreements`. */
export function parseListQuery(query: Readonly<Record<string, string>>): AgreementListFilter {
  only(query, ['status', 'provider', 'consumer', 'overdue', 'limit', 'cursor'], { top: 'query' });
  return {
    ...(query.status === undefined ? {} : { status: oneOf(query.status, 'status', STATUSES) }),
    ...(query.provider === undefined ? {} : { provider: query.provider }),
    ...(query.consumer === undefined ? {} : { consumer: query.consumer }),
    ...(query.overdue === undefined ? {} : { overdue: oneOf(query.overdue, 'overdue', ['true', 'false'] as const) === 'true' }),
    ...limitAndCursor(query),
  };
}

/** Query of `GET /audit`. */
export function parseAuditQuery(query: Readonly<Record<string, string>>): AgreementAuditFilter {
  only(query, ['actor', 'agreement', 'bureau', 'from', 'until', 'limit', 'cursor'], { top: 'query' });
  return {
    ...(query.actor === undefined ? {} : { actor: query.actor }),
    ...(query.agreement === undefined ? {} : { agreementId: query.agreement }),
    ...(query.bureau === undefined ? {} : { bureau: query.bureau }),
    ...(query.from === undefined ? {} : { from: parseInstant(query.from, 'from') }),
    ...(query.until === undefined ? {} : { until: parseInstant(query.until, 'until') }),
    ...limitAndCursor(query),
  };
}

function limitAndCursor(query: Readonly<Record<string, string>>): { limit?: number; cursor?: string } {
  let limit: number | undefined;
  if (query.limit !== undefined) {
    limit = Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) throw bad('limit', `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
  }
  return { ...(limit === undefined ? {} : { limit }), ...(query.cursor === undefined ? {} : { cursor: query.cursor }) };
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string') throw bad(field, `${field} is required and must be a string`);
  return value;
}

function optional<K extends string>(field: K, value: unknown): { [P in K]?: string } {
  return value === undefined ? {} : ({ [field]: text(value, field) } as { [P in K]?: string });
}

function textList(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) throw bad(field, `${field} must be an array of coordinates, e.g. ["Person.name"]`);
  return value.map((item, index) => text(item, `${field}[${index}]`));
}

function record(value: unknown, field: string): Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(field, `${field} must be an object`);
  return value as Readonly<Record<string, unknown>>;
}

function integer(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw bad(field, `${field} must be a whole number`);
  return value;
}

function flag(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw bad(field, `${field} must be true or false`);
  return value;
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw bad(field, `${field} must be one of ${allowed.join(', ')}`);
  return value as T;
}

/** An instant as PostgreSQL will read it the same way: checked, then written out in full (`2026-03-01T00:00:00.000Z`). */
function isoInstant(value: unknown, field: string): string {
  return parseInstant(text(value, field), field).toISOString();
}

function bad(field: string, message: string): ApiError {
  return new ApiError('BAD_USER_INPUT', message, { field });
}

/** The body of `POST /explain`. */
export interface ExplainRequest {
  readonly query: string;
  readonly variables?: Readonly<Record<string, unknown>>;
  readonly operationName?: string;
  readonly purpose?: string;
  /** Save what is missing as DRAFT agreement requests, with this legal basis. */
  readonly draft?: { readonly legalBasis: string; readonly validUntil?: string };
}

const EXPLAIN_KEYS: readonly string[] = ['query', 'variables', 'operationName', 'purpose', 'draft'];

/** Parses the body of `POST /explain`. */
export function parseExplainRequest(body: Body): ExplainRequest {
  only(body, EXPLAIN_KEYS, { top: 'body' });
  const variables = body.variables === undefined || body.variables === null ? undefined : record(body.variables, 'variables');
  const draft = body.draft === undefined ? undefined : record(body.draft, 'draft');
  if (draft) {
    only(draft, ['legalBasis', 'validUntil'], { within: 'draft' });
  }
  return {
    query: text(body.query, 'query'),
    ...(variables ? { variables } : {}),
    ...optional('operationName', body.operationName),
    ...optional('purpose', body.purpose),
    ...(draft
      ? { draft: { legalBasis: text(draft.legalBasis, 'draft.legalBasis'), ...(draft.validUntil === undefined ? {} : { validUntil: isoInstant(draft.validUntil, 'draft.validUntil') }) } }
      : {}),
  };
}

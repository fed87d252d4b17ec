import type { Agreement, AgreementStatus, RowScope } from './agreement.ts';
import { MASK_KINDS, type Catalogue, type MaskKind } from './catalogue.ts';
import type { Principal, Role } from './principal.ts';
import { addWorkingDays, type WorkingCalendar } from './working-calendar.ts';

// Reply-by dates are counted here and shown by the console with the same calendar functions.
export { addWorkingDays } from './working-calendar.ts';

/**
 * The life of a sharing agreement, as pure functions:
 * `DRAFT → PENDING → ACTIVE → (REVOKED | EXPIRED)`, or `PENDING → REJECTED`.
 *
 * Each step takes the agreement as it is, the principal acting, the step's
 * input, the clock and the catalogue, and returns either the next version of
 * the agreement with the event that records the step, or a refusal with a
 * code. Nothing here reads a database or the time of day: the store persists
 * what these functions decide, and tests drive them with any clock.
 */

/** Working days (of the national calendar) a providing bureau has to answer a submitted request, when not configured. */
export const DEFAULT_WORKING_DAYS_TO_REPLY = 10;
/** Longest validity window an agreement may ask for: three years (and a leap day). */
export const MAX_VALIDITY_DAYS = 3 * 365 + 1;
/** Longest disclosure delay: an investigation's secrecy is bounded too. */
export const MAX_DISCLOSURE_DELAY_DAYS = 730;
/** Most fields one agreement may name; more is a sign of a bulk copy, not a purpose. */
export const MAX_FIELDS = 200;
/** Shortest written reason, legal basis or disclosure reason accepted (characters, after trimming). */
export const MIN_REASON_LENGTH = 8;
/** Longest free text accepted. */
export const MAX_TEXT_LENGTH = 2_000;

const DAY_MS = 86_400_000;

/** What happened to an agreement in one step. */
export type AgreementAction = 'CREATE' | 'SUBMIT' | 'APPROVE' | 'REJECT' | 'REVOKE' | 'EXPIRE';

/** Who took a step: the person (token `user`, else `sub`), the bureau they acted for and their roles. */
export interface AgreementActor {
  readonly user: string;
  readonly bureau: string;
  readonly roles: readonly Role[];
}

/** The actor of steps the gateway takes by itself (expiry). */
export const SYSTEM_ACTOR: AgreementActor = { user: 'system:isthmus', bureau: 'isthmus', roles: [] };

/** One step in an agreement's history, with the agreement as it stood after the step. */
export interface AgreementEvent {
  readonly agreementId: string;
  /** The agreement's version after the step. */
  readonly version: number;
  readonly action: AgreementAction;
  readonly actor: AgreementActor;
  /** ISO 8601 instant. */
  readonly at: string;
  /** The written reasons of a rejection or revocation. */
  readonly reason?: string;
  readonly agreement: Agreement;
}

/** Codes a refused step carries; the admin API maps them to 400, 403 and 409. */
export type LifecycleErrorCode = 'BAD_USER_INPUT' | 'FORBIDDEN' | 'CONFLICT';

/** Which authorization rule a `FORBIDDEN` refusal broke, so clients and tests can tell them apart. */
export type LifecycleRule =
  /** Requests are made by a developer or data officer (not a citizen app, not an operator). */
  | 'REQUESTER_ROLE'
  /** Only people of the consumer bureau request or submit its agreements. */
  | 'CONSUMER_BUREAU'
  /** Only a data officer of the providing bureau approves, rejects or revokes. */
  | 'PROVIDER_DATA_OFFICER'
  /** The person who requested an agreement never decides on it. */
  | 'SEPARATION_OF_DUTIES';

/** A step that was refused, and why. The message names the field or rule and is safe to show. */
export interface LifecycleRefusal {
  readonly ok: false;
  readonly code: LifecycleErrorCode;
  readonly message: string;
  /** For `BAD_USER_INPUT`: the input field at fault, e.g. `fields[2]` or `validUntil`. */
  readonly field?: string;
  /** For `FORBIDDEN`: the rule broken. */
  readonly rule?: LifecycleRule;
}

/** The outcome of a step. */
export type LifecycleResult = { readonly ok: true; readonly agreement: Agreement; readonly event: AgreementEvent } | LifecycleRefusal;

/** Settings of the lifecycle that a deployment may change. */
export interface LifecycleSettings {
  /** Working days the provider has to answer a submitted request. */
  readonly workingDaysToReply: number;
  /** The calendar those days are counted in: the national holidays and adjusted working days; Monday to Friday when not given. */
  readonly calendar?: WorkingCalendar;
}

/** The terms of a request, as the requester states them. */
export interface AgreementRequestInput {
  /** The id the new agreement gets (the caller draws it, so this stays pure). */
  readonly id: string;
  /** When given, must be the requester's own bureau. */
  readonly consumerBureau?: string;
  readonly consumerApp: string;
  readonly providerBureau: string;
  readonly fields: readonly string[];
  readonly masks?: Readonly<Record<string, MaskKind>>;
  readonly purpose: string;
  readonly legalBasis: string;
  readonly rowScope: RowScope;
  /** Defaults to `agreement:<id>`. */
  readonly scope?: string;
  readonly validFrom: string;
  readonly validUntil: string;
  readonly disclosureDelay?: { readonly days: number; readonly legalReason: string };
  /** `true`: submit straight to `PENDING`; otherwise the request is saved as a `DRAFT`. */
  readonly submit?: boolean;
}

/** Input of a rejection or revocation. */
export interface ReasonInput {
  readonly reason: string;
}

const DEFAULT_SETTINGS: LifecycleSettings = { workingDaysToReply: DEFAULT_WORKING_DAYS_TO_REPLY };
const APP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const PURPOSE = /^[a-z][a-z0-9-]{4,79}$/;
const SCOPE = /^[A-Za-z0-9][A-Za-z0-9:._/-]{2,127}$/;
const COORDINATE = /^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/;
/** Words people type when they have nothing to say; a legal basis or reason must say something. */
const PLACEHOLDERS = new Set(['n/a', 'na', 'none', 'nil', 'null', 'tbd', 'todo', 'test', 'testing', 'xxx', 'not applicable', 'no reason', 'see above', '无', '暂无', '测试']);

/** The user id a principal acts as: the token's `user`, else its `sub`. */
export function actorOf(principal: Principal): AgreementActor {
  return { user: principal.user ?? principal.subject, bureau: principal.bureau, roles: [...principal.roles] };
}

/** Who may request an agreement and submit it: a developer or a data officer (of the consumer bureau, checked by the caller). */
function mayRequest(who: AgreementActor): boolean {
  return who.roles.includes('developer') || who.roles.includes('data_officer');
}

/** True for a `PENDING` request whose reply-by date has passed. */
export function isOverdue(agreement: Agreement, now: Date): boolean {
  return agreement.status === 'PENDING' && agreement.replyBy !== undefined && Date.parse(agreement.replyBy) < now.getTime();
}

/**
 * The status a reader should act on: an `ACTIVE` agreement whose window has
 * ended is `EXPIRED` even before the sweep records it.
 */
export function effectiveStatus(agreement: Agreement, now: Date): AgreementStatus {
  return agreement.status === 'ACTIVE' && Date.parse(agreement.validUntil) <= now.getTime() ? 'EXPIRED' : agreement.status;
}

/** True when the agreement is `ACTIVE` and `now` is inside `[validFrom, validUntil)`. */
export function isInForce(agreement: Agreement, now: Date): boolean {
  const at = now.getTime();
  return agreement.status === 'ACTIVE' && Date.parse(agreement.validFrom) <= at && at < Date.parse(agreement.validUntil);
}

/**
 * A consumer bureau's developer or data officer requests an agreement: saved
 * as a `DRAFT`, or with `submit: true` straight to `PENDING` with a reply-by
 * date. The terms are checked as at submission (see {@link submitAgreement}).
 *
 * @example
 * const result = requestAgreement(principal, { id: 'agr-1', consumerApp: 'relief-app', providerBureau: 'public-security',
 *   fields: ['Person.name'], purpose: 'social-assistance-eligibility', legalBasis: '《社会救助暂行办法》第十一条',
 *   rowScope: 'ANY', validFrom: '2026-01-01T00:00:00Z', validUntil: '2027-01-01T00:00:00Z', submit: true }, now, catalogue);
 * if (!result.ok) return refuse(result.code, result.message);
 */
export function requestAgreement(
  actor: Principal,
  input: AgreementRequestInput,
  now: Date,
  catalogue: Catalogue,
  settings: LifecycleSettings = DEFAULT_SETTINGS,
): LifecycleResult {
  const who = actorOf(actor);
  if (!mayRequest(who)) {
    return forbidden('REQUESTER_ROLE', 'only a developer or a data officer of the consumer bureau may request an agreement');
  }
  if (input.consumerBureau !== undefined && input.consumerBureau !== who.bureau) {
    return forbidden('CONSUMER_BUREAU', `you act for '${who.bureau}' and may request agreements only for that bureau`);
  }
  if (typeof input.id !== 'string' || input.id.length === 0) return badInput('id', 'an agreement id is required');
  const at = now.toISOString();
  const terms: Agreement = {
    id: input.id,
    version: 1,
    consumerBureau: who.bureau,
    consumerApp: input.consumerApp,
    providerBureau: input.providerBureau,
    fields: [...input.fields],
    masks: { ...(input.masks ?? {}) },
    purpose: input.purpose,
    legalBasis: typeof input.legalBasis === 'string' ? input.legalBasis.trim() : input.legalBasis,
    rowScope: input.rowScope,
    scope: input.scope ?? `agreement:${input.id}`,
    validFrom: input.validFrom,
    validUntil: input.validUntil,
    status: 'DRAFT',
    requestedBy: who.user,
    ...(input.disclosureDelay ? { disclosureDelay: { days: input.disclosureDelay.days, legalReason: input.disclosureDelay.legalReason?.trim() } } : {}),
    createdAt: at,
    updatedAt: at,
  };
  const refusal = checkTerms(terms, now, catalogue);
  if (refusal) return refusal;
  const agreement: Agreement = {
    ...terms,
    validFrom: new Date(terms.validFrom).toISOString(),
    validUntil: new Date(terms.validUntil).toISOString(),
    ...(input.submit ? { status: 'PENDING', replyBy: addWorkingDays(now, settings.workingDaysToReply, settings.calendar).toISOString() } : {}),
  };
  return done(agreement, input.submit ? 'SUBMIT' : 'CREATE', who, now);
}

/**
 * Submits a `DRAFT` for the provider's decision. Every term is checked again
 * against today's catalogue: each field must exist, be provided by the
 * provider bureau and not be of category `NONE` (the refusal names it); masks
 * only for requested fields; a window of at most {@link MAX_VALIDITY_DAYS}
 * that has not ended. The request gets `replyBy` = now + the working days.
 */
export function submitAgreement(
  agreement: Agreement,
  actor: Principal,
  _input: Record<string, never>,
  now: Date,
  catalogue: Catalogue,
  settings: LifecycleSettings = DEFAULT_SETTINGS,
): LifecycleResult {
  const who = actorOf(actor);
  if (!mayRequest(who)) {
    return forbidden('REQUESTER_ROLE', 'only a developer or a data officer of the consumer bureau may submit a request');
  }
  if (who.bureau !== agreement.consumerBureau) {
    return forbidden('CONSUMER_BUREAU', `only people of the consumer bureau '${agreement.consumerBureau}' may submit its request`);
  }
  if (agreement.status !== 'DRAFT') return conflict(`the agreement is ${agreement.status}; only a DRAFT can be submitted`);
  const refusal = checkTerms(agreement, now, catalogue);
  if (refusal) return refusal;
  return done(next(agreement, now, { status: 'PENDING', replyBy: addWorkingDays(now, settings.workingDaysToReply, settings.calendar).toISOString() }), 'SUBMIT', who, now);
}

/**
 * A data officer of the providing bureau, who did not request it, approves
 * a `PENDING` request. The terms must still hold against today's catalogue
 * (a field may have been withdrawn since): if not, the request can only be
 * rejected.
 */
export function approveAgreement(agreement: Agreement, actor: Principal, _input: Record<string, never>, now: Date, catalogue: Catalogue): LifecycleResult {
  const who = actorOf(actor);
  const refusal = checkDecider(agreement, who, 'approve');
  if (refusal) return refusal;
  if (agreement.status !== 'PENDING') return conflict(`the agreement is ${agreement.status}; only a PENDING request can be approved`);
  const stale = checkTerms(agreement, now, catalogue);
  if (stale) return conflict(`the request can no longer be approved as it stands (${stale.message}); reject it with your reasons`);
  return done(next(agreement, now, { status: 'ACTIVE', approvedBy: who.user }), 'APPROVE', who, now);
}

/** A data officer of the providing bureau, who did not request it, rejects a `PENDING` request with written reasons the requester will read. */
export function rejectAgreement(agreement: Agreement, actor: Principal, input: ReasonInput, now: Date, _catalogue?: Catalogue): LifecycleResult {
  const who = actorOf(actor);
  const refusal = checkDecider(agreement, who, 'reject') ?? checkText('reason', input.reason, 'the reasons for the rejection');
  if (refusal) return refusal;
  if (agreement.status !== 'PENDING') return conflict(`the agreement is ${agreement.status}; only a PENDING request can be rejected`);
  const reason = input.reason.trim();
  return done(next(agreement, now, { status: 'REJECTED', rejectionReason: reason }), 'REJECT', who, now, reason);
}

/** A data officer of the providing bureau, who did not request it, revokes an agreement in force, with written reasons the requester will read. */
export function revokeAgreement(agreement: Agreement, actor: Principal, input: ReasonInput, now: Date, _catalogue?: Catalogue): LifecycleResult {
  const who = actorOf(actor);
  const refusal = checkDecider(agreement, who, 'revoke') ?? checkText('reason', input.reason, 'the reasons for the revocation');
  if (refusal) return refusal;
  const status = effectiveStatus(agreement, now);
  if (status !== 'ACTIVE') return conflict(`the agreement is ${status}; only an ACTIVE agreement can be revoked`);
  const reason = input.reason.trim();
  return done(next(agreement, now, { status: 'REVOKED', revocationReason: reason }), 'REVOKE', who, now, reason);
}

/** The gateway records that an `ACTIVE` agreement's window has ended. */
export function expireAgreement(agreement: Agreement, now: Date): LifecycleResult {
  if (effectiveStatus(agreement, now) !== 'EXPIRED' || agreement.status !== 'ACTIVE') {
    return conflict(`the agreement is ${agreement.status} and its window ends ${agreement.validUntil}; it does not expire now`);
  }
  return done(next(agreement, now, { status: 'EXPIRED' }), 'EXPIRE', SYSTEM_ACTOR, now);
}

/** Approve, reject and revoke: a data officer of the provider, never the requester. */
function checkDecider(agreement: Agreement, who: AgreementActor, verb: string): LifecycleRefusal | undefined {
  if (!who.roles.includes('data_officer') || who.bureau !== agreement.providerBureau) {
    return forbidden('PROVIDER_DATA_OFFICER', `only a data officer of the providing bureau '${agreement.providerBureau}' may ${verb} this agreement`);
  }
  if (who.user === agreement.requestedBy) {
    return forbidden('SEPARATION_OF_DUTIES', `you requested this agreement, so another data officer must ${verb} it`);
  }
  return undefined;
}

/** Every term of a request, checked in the order a reader fills the form. */
function checkTerms(agreement: Agreement, now: Date, catalogue: Catalogue): LifecycleRefusal | undefined {
  if (typeof agreement.consumerApp !== 'string' || !APP_ID.test(agreement.consumerApp)) {
    return badInput('consumerApp', 'consumerApp must be the client application id (letters, digits, . _ -, at most 64)');
  }
  const provider = agreement.providerBureau;
  if (typeof provider !== 'string' || !catalogue.bureaus.has(provider)) {
    return badInput('providerBureau', `providerBureau must be a bureau of the catalogue (${[...catalogue.bureaus.keys()].join(', ')})`);
  }
  if (provider === agreement.consumerBureau) return badInput('providerBureau', 'a bureau reads its own data without an agreement: the provider must be another bureau');
  if (typeof agreement.purpose !== 'string' || !PURPOSE.test(agreement.purpose)) {
    return badInput('purpose', 'purpose must name what the data is for, in kebab-case (5–80 characters), e.g. social-assistance-eligibility');
  }
  const legalBasis = checkText('legalBasis', agreement.legalBasis, 'the statute or regulation that allows the sharing');
  if (legalBasis) return legalBasis;

  if (!Array.isArray(agreement.fields) || agreement.fields.length === 0) return badInput('fields', 'fields must list at least one coordinate, e.g. Person.name');
  if (agreement.fields.length > MAX_FIELDS) return badInput('fields', `an agreement names at most ${MAX_FIELDS} fields`);
  const seen = new Set<string>();
  for (const [index, coordinate] of agreement.fields.entries()) {
    const at = `fields[${index}]`;
    if (typeof coordinate !== 'string' || !COORDINATE.test(coordinate)) return badInput(at, 'each field is a coordinate Type.field, e.g. Person.name');
    const field = catalogue.fields.get(coordinate);
    // Named back only once it is the catalogue's: a coordinate the caller made up is not quoted.
    if (!field) return badInput(at, `${at} is not a field of the catalogue`);
    if (seen.has(coordinate)) return badInput(at, `${coordinate} is listed twice`);
    seen.add(coordinate);
    if (field.bureau !== provider) return badInput(at, `${coordinate} is provided by '${field.bureau}', not by '${provider}'`);
    if (field.category === 'NONE') return badInput(at, `${coordinate} is of sharing category NONE (不予共享) and never leaves '${provider}'`);
  }

  if (typeof agreement.masks !== 'object' || agreement.masks === null || Array.isArray(agreement.masks)) return badInput('masks', 'masks must map coordinates to mask kinds');
  for (const [coordinate, mask] of Object.entries(agreement.masks)) {
    if (!seen.has(coordinate)) return badInput(`masks.${coordinate}`, `a mask may be set only for a requested field; ${coordinate} is not requested`);
    if (!MASK_KINDS.includes(mask)) return badInput(`masks.${coordinate}`, `the mask must be one of ${MASK_KINDS.join(', ')}`);
  }
  if (agreement.rowScope !== 'ANY' && agreement.rowScope !== 'SELF') return badInput('rowScope', 'rowScope must be ANY or SELF');
  if (typeof agreement.scope !== 'string' || !SCOPE.test(agreement.scope)) {
    return badInput('scope', 'scope must be 3–128 characters of letters, digits and : . _ / -');
  }

  const from = typeof agreement.validFrom === 'string' ? Date.parse(agreement.validFrom) : Number.NaN;
  const until = typeof agreement.validUntil === 'string' ? Date.parse(agreement.validUntil) : Number.NaN;
  if (!Number.isFinite(from)) return badInput('validFrom', 'validFrom must be an ISO 8601 instant, e.g. 2026-01-01T00:00:00Z');
  if (!Number.isFinite(until)) return badInput('validUntil', 'validUntil must be an ISO 8601 instant, e.g. 2027-01-01T00:00:00Z');
  if (from >= until) return badInput('validUntil', 'validUntil must be after validFrom');
  if (until - from > MAX_VALIDITY_DAYS * DAY_MS) return badInput('validUntil', `the validity window may be at most ${MAX_VALIDITY_DAYS} days (three years)`);
  if (until <= now.getTime()) return badInput('validUntil', 'the validity window has already ended');

  const delay = agreement.disclosureDelay;
  if (delay !== undefined) {
    if (typeof delay !== 'object' || delay === null) return badInput('disclosureDelay', 'disclosureDelay must be { days, legalReason }');
    if (!Number.isInteger(delay.days) || delay.days < 1 || delay.days > MAX_DISCLOSURE_DELAY_DAYS) {
      return badInput('disclosureDelay.days', `disclosureDelay.days must be a whole number from 1 to ${MAX_DISCLOSURE_DELAY_DAYS}`);
    }
    const reason = checkText('disclosureDelay.legalReason', delay.legalReason, 'the legal reason the data subject may not be told yet');
    if (reason) return reason;
  }
  return undefined;
}

/** Free text that must say something: not empty, not a placeholder, not a wall. */
function checkText(field: string, value: unknown, what: string): LifecycleRefusal | undefined {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text.length === 0) return badInput(field, `${field} is required: ${what}`);
  if (text.length > MAX_TEXT_LENGTH) return badInput(field, `${field} may be at most ${MAX_TEXT_LENGTH} characters`);
  if (text.length < MIN_REASON_LENGTH || PLACEHOLDERS.has(text.toLowerCase()) || (text.match(/\p{L}/gu)?.length ?? 0) < 2) {
    return badInput(field, `${field} must state ${what} (at least ${MIN_REASON_LENGTH} characters of real text)`);
  }
  return undefined;
}

function next(agreement: Agreement, now: Date, change: Partial<Agreement>): Agreement {
  return { ...agreement, ...change, version: agreement.version + 1, updatedAt: now.toISOString() } satisfies Agreement;
}

function done(agreement: Agreement, action: AgreementAction, actor: AgreementActor, now: Date, reason?: string): LifecycleResult {
  const event: AgreementEvent = {
    agreementId: agreement.id,
    version: agreement.version,
    action,
    actor,
    at: now.toISOString(),
    ...(reason === undefined ? {} : { reason }),
    agreement,
  };
  return { ok: true, agreement, event };
}

function badInput(field: string, message: string): LifecycleRefusal {
  return { ok: false, code: 'BAD_USER_INPUT', message, field };
}

function forbidden(rule: LifecycleRule, message: string): LifecycleRefusal {
  return { ok: false, code: 'FORBIDDEN', message, rule };
}

function conflict(message: string): LifecycleRefusal {
  return { ok: false, code: 'CONFLICT', message };
}

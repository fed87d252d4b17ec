import type { Agreement, AgreementStatus, RowScope, AgreementQuota } from './agreement.ts';
import type { Catalogue, MaskKind } from './catalogue.ts';
import { badInput, conflict, forbidden, type LifecycleRefusal } from './lifecycle-refusal.ts';
import { checkTerms, checkText } from './agreement-terms.ts';
import { normalizePinnedOperations } from './agreement-operations.ts';
import type { Principal, Role } from './principal.ts';
import { isRequester, stableIdentityOf } from './same-person.ts';
import { addWorkingDays, type WorkingCalendar } from './working-calendar.ts';

// Reply-by dates are counted here and shown by the console with the same calendar functions.
export { addWorkingDays } from './working-calendar.ts';
export type { LifecycleErrorCode, LifecycleRefusal, LifecycleRule } from './lifecycle-refusal.ts';
export { MAX_DISCLOSURE_DELAY_DAYS, MAX_FIELDS, MAX_TEXT_LENGTH, MAX_VALIDITY_DAYS, MIN_REASON_LENGTH } from './agreement-terms.ts';

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
  /** The `quota` term (`agreement-quota.ts`); absent: no quota. */
  readonly quota?: AgreementQuota;
  /** Reads must name a case id, of `format` if given; checked by `checkCaseIdTerm` (agreement-case-id.ts). */
  readonly caseId?: Agreement['caseId'];
  /** Hashes of the documents reads may run (`agreement-operations.ts`), as typed: normalized, then checked with the other terms. */
  readonly operations?: readonly string[];
  /** `true`: submit straight to `PENDING`; otherwise the request is saved as a `DRAFT`. */
  readonly submit?: boolean;
}

/** Input of a rejection or revocation. */
export interface ReasonInput {
  readonly reason: string;
}

const DEFAULT_SETTINGS: LifecycleSettings = { workingDaysToReply: DEFAULT_WORKING_DAYS_TO_REPLY };
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
  const requester = stableIdentityOf(actor);
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
    ...(requester ? { requester } : {}),
    ...(input.disclosureDelay ? { disclosureDelay: { days: input.disclosureDelay.days, legalReason: input.disclosureDelay.legalReason?.trim() } } : {}),
    ...(input.quota === undefined ? {} : { quota: input.quota }),
    ...(input.caseId === undefined ? {} : { caseId: input.caseId }),
    ...(input.operations === undefined ? {} : { operations: Array.isArray(input.operations) ? normalizePinnedOperations(input.operations) : (input.operations as Agreement['operations']) }),
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
  const refusal = checkDecider(agreement, actor, who, 'approve');
  if (refusal) return refusal;
  if (agreement.status !== 'PENDING') return conflict(`the agreement is ${agreement.status}; only a PENDING request can be approved`);
  const stale = checkTerms(agreement, now, catalogue);
  if (stale) return conflict(`the request can no longer be approved as it stands (${stale.message}); reject it with your reasons`);
  return done(next(agreement, now, { status: 'ACTIVE', approvedBy: who.user }), 'APPROVE', who, now);
}

/** A data officer of the providing bureau, who did not request it, rejects a `PENDING` request with written reasons the requester will read. */
export function rejectAgreement(agreement: Agreement, actor: Principal, input: ReasonInput, now: Date, _catalogue?: Catalogue): LifecycleResult {
  const who = actorOf(actor);
  const refusal = checkDecider(agreement, actor, who, 'reject') ?? checkText('reason', input.reason, 'the reasons for the rejection');
  if (refusal) return refusal;
  if (agreement.status !== 'PENDING') return conflict(`the agreement is ${agreement.status}; only a PENDING request can be rejected`);
  const reason = input.reason.trim();
  return done(next(agreement, now, { status: 'REJECTED', rejectionReason: reason }), 'REJECT', who, now, reason);
}

/** A data officer of the providing bureau, who did not request it, revokes an agreement in force, with written reasons the requester will read. */
export function revokeAgreement(agreement: Agreement, actor: Principal, input: ReasonInput, now: Date, _catalogue?: Catalogue): LifecycleResult {
  const who = actorOf(actor);
  const refusal = checkDecider(agreement, actor, who, 'revoke') ?? checkText('reason', input.reason, 'the reasons for the revocation');
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

/** Approve, reject and revoke: a data officer of the provider, never the requester (the same person as `same-person.ts` defines it). */
function checkDecider(agreement: Agreement, actor: Principal, who: AgreementActor, verb: string): LifecycleRefusal | undefined {
  if (!who.roles.includes('data_officer') || who.bureau !== agreement.providerBureau) {
    return forbidden('PROVIDER_DATA_OFFICER', `only a data officer of the providing bureau '${agreement.providerBureau}' may ${verb} this agreement`);
  }
  if (isRequester(agreement, actor)) {
    return forbidden('SEPARATION_OF_DUTIES', `you requested this agreement, so another data officer must ${verb} it`);
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



import { parse, validate, GraphQLError } from 'graphql';
import type { MaskKind, SharingCategory, Sensitivity } from '../../policies/catalogue.ts';
import type { Principal } from '../../policies/principal.ts';
import { planFields } from '../../policies/field-plan.ts';
import type { AgreementRequest, DenyReason, WouldAllow } from '../../policies/decide.ts';
import type { AgreementsInForce, Enforcer } from '../../policies/enforce.ts';
import type { Agreement, AgreementStatus } from '../../policies/agreement.ts';
import { requestsUnderway } from '../../policies/requests-underway.ts';
import type { StatedPurpose } from '../../policies/request-purpose.ts';
import { AdminApiError } from './admin-error.ts';
import { operationHashOf } from '../operations/operation-manifest.ts';

/** One field an operation touches, as `explain` reports it. */
export interface ExplainedField {
  /** Response path, e.g. `person.enterprises.name`. */
  readonly path: string;
  readonly coordinate: string;
  /** The providing bureau (for root fields, the bureau that serves them). */
  readonly bureau?: string;
  readonly category?: SharingCategory;
  readonly sensitivity?: Sensitivity;
  readonly decision: 'allow' | 'mask' | 'deny' | 'entry-point';
  readonly mask?: MaskKind;
  /** The agreement that releases the field, when one does. */
  readonly agreementId?: string;
  readonly reason?: DenyReason;
  readonly message?: string;
  readonly wouldAllow?: WouldAllow;
}

/** What `explain` answers: for the caller's token and purpose, what each field would get, and which agreements are missing. */
export interface ExplainReport {
  readonly principal: { readonly bureau: string; readonly app: string; readonly roles: readonly string[]; readonly scopes: readonly string[]; readonly citizen?: boolean };
  /** The purpose and case id as `/graphql` resolves them: what the request states, else the token's claims. */
  readonly purpose?: string;
  readonly caseId?: string;
  /** What `/graphql` would answer: `DENIED` too when the gateway refuses any operation with a denied field as a whole. */
  readonly outcome: 'ALLOWED' | 'PARTIAL' | 'DENIED';
  readonly fields: readonly ExplainedField[];
  readonly agreementsUsed: readonly string[];
  /** One agreement to request per providing bureau, covering every field denied for lack of one. */
  readonly missing: readonly AgreementRequest[];
  /**
   * Requests already made for this app (`DRAFT` or `PENDING`) that would
   * release denied fields once approved: they are not suggested again, and
   * `draft` files nothing for them.
   */
  readonly underway: readonly ExistingAgreement[];
  /** Agreements in force that would release denied fields, but the token lacks their scope. */
  readonly scopeMissing: readonly ExistingAgreement[];
  /**
   * Agreements in force that would release denied fields for a read that
   * names its case file (`x-isthmus-case-id` or the token's claim): the
   * request names none, or one not of the agreement's `format`.
   */
  readonly caseIdNeeded: readonly (ExistingAgreement & { readonly caseId: { readonly format?: string } })[];
}

/** An agreement that already exists for some of the denied fields, and what it needs. */
export interface ExistingAgreement {
  readonly agreementId: string;
  readonly status: AgreementStatus;
  readonly providerBureau: string;
  readonly purpose: string;
  /** The token scope that exercises it. */
  readonly scope: string;
  /** The denied coordinates it covers, sorted. */
  readonly fields: readonly string[];
}

/** What {@link explainOperation} reads. */
export interface ExplainInput {
  /** The gateway's enforcer, the one `/graphql` uses. */
  readonly enforcer: Pick<Enforcer, 'settings' | 'decide'>;
  readonly principal: Principal;
  /** The purpose and case id the request states (body or headers), before the token's claims. */
  readonly stated: StatedPurpose;
  readonly agreements: AgreementsInForce;
  /**
   * Agreements of the principal's bureau as stored, any status: the drafts
   * and pending requests of the principal's app among them are shown to the
   * decision (they release nothing) so that a field they cover is reported
   * as waiting for them, not as lacking an agreement.
   */
  readonly requested?: readonly Agreement[];
  readonly now: Date;
  readonly query: string;
  readonly variables?: Readonly<Record<string, unknown>>;
  readonly operationName?: string;
}

/**
 * Runs the gateway's own planning and decision on an operation without
 * executing it: this is how a bureau developer learns, before writing a
 * line of code, which fields their token may read, which are masked, and
 * exactly which agreement to ask for. It asks the gateway's own enforcer
 * (`policies/enforce.ts`) with the same facts `/graphql` hands it — the
 * purpose resolved by the same rules, a malformed one refused the same way —
 * so the answer cannot drift from what a real request would get.
 *
 * @throws AdminApiError `BAD_USER_INPUT` naming `query`, `variables`, `purpose` or `caseId`
 */
export function explainOperation(input: ExplainInput): ExplainReport {
  const { schema, catalogue } = input.enforcer.settings;
  let document;
  try {
    document = parse(input.query);
  } catch (error) {
    throw new AdminApiError('BAD_USER_INPUT', error instanceof GraphQLError ? error.message : 'the query does not parse', { field: 'query' });
  }
  const invalid = validate(schema, document);
  if (invalid.length > 0) throw new AdminApiError('BAD_USER_INPUT', invalid.map((error) => error.message).join(' '), { field: 'query' });
  const underway = requestsUnderway(input.requested ?? [], input.principal);
  const known = new Map([...input.agreements.agreements, ...underway].map((agreement) => [agreement.id, agreement]));
  const decided = input.enforcer.decide({
    principal: input.principal,
    stated: input.stated,
    document,
    operationName: input.operationName,
    variables: input.variables,
    // The hash /graphql would give agreements that pin operations: of the text as sent.
    operationHash: operationHashOf(input.query),
    agreements: underway.length === 0 ? input.agreements : { agreements: [...input.agreements.agreements, ...underway], byId: input.agreements.byId },
    now: input.now,
  });
  if (decided.kind === 'invalid') throw new AdminApiError('BAD_USER_INPUT', decided.problem.message, { field: decided.problem.field });
  const { plan, decision, purpose, outcome } = decided.decided;

  const fields: ExplainedField[] = [];
  for (const field of planFields(plan)) {
    if (field.introspection) continue;
    const verdict = decision.fields.get(field.key);
    const entry = catalogue.fields.get(field.coordinate);
    const isRoot = field.path.length === 1;
    const base = {
      path: field.path.join('.'),
      coordinate: field.coordinate,
      ...(verdict?.bureau ? { bureau: verdict.bureau } : {}),
      ...(entry ? { category: entry.category, sensitivity: entry.sensitivity } : {}),
    };
    if (!verdict) continue;
    if (verdict.effect === 'deny') {
      fields.push({ ...base, decision: 'deny', reason: verdict.reason, message: verdict.message, ...(verdict.wouldAllow ? { wouldAllow: verdict.wouldAllow } : {}) });
    } else if (verdict.effect === 'mask') {
      fields.push({ ...base, decision: 'mask', mask: verdict.mask, ...(verdict.agreementId ? { agreementId: verdict.agreementId } : {}) });
    } else {
      fields.push({ ...base, decision: isRoot && !entry ? 'entry-point' : 'allow', ...(verdict.agreementId ? { agreementId: verdict.agreementId } : {}) });
    }
  }
  return {
    principal: {
      bureau: input.principal.bureau,
      app: input.principal.app,
      roles: input.principal.roles,
      scopes: input.principal.scopes,
      ...(input.principal.citizen ? { citizen: true } : {}),
    },
    ...(purpose.purpose ? { purpose: purpose.purpose } : {}),
    ...(purpose.caseId ? { caseId: purpose.caseId } : {}),
    outcome,
    fields,
    agreementsUsed: decision.agreementIds,
    missing: missingAgreements(decision.denied.flatMap((denial) => (denial.wouldAllow && 'request' in denial.wouldAllow ? [denial.wouldAllow.request] : []))),
    underway: existingAgreements(decision.denied, ['AGREEMENT_NOT_ACTIVE'], known),
    scopeMissing: existingAgreements(decision.denied, ['SCOPE_MISSING'], known),
    caseIdNeeded: existingAgreements(decision.denied, ['CASE_ID_REQUIRED', 'CASE_ID_FORMAT'], known).map((existing) => {
      const format = known.get(existing.agreementId)?.caseId?.format;
      return { ...existing, caseId: format === undefined ? {} : { format } };
    }),
  };
}

/** The agreements the decision named for fields denied with one of `reasons`, each with the coordinates it covers. */
function existingAgreements(
  denied: readonly { readonly coordinate: string; readonly reason: DenyReason; readonly wouldAllow?: WouldAllow }[],
  reasons: readonly DenyReason[],
  known: ReadonlyMap<string, Agreement>,
): readonly ExistingAgreement[] {
  const fields = new Map<string, Set<string>>();
  for (const denial of denied) {
    if (!reasons.includes(denial.reason) || !denial.wouldAllow || !('agreementId' in denial.wouldAllow)) continue;
    const id = denial.wouldAllow.agreementId;
    fields.set(id, (fields.get(id) ?? new Set()).add(denial.coordinate));
  }
  return [...fields]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .flatMap(([id, coordinates]) => {
      const agreement = known.get(id);
      if (!agreement) return [];
      const { status, providerBureau, purpose, scope } = agreement;
      return [{ agreementId: id, status, providerBureau, purpose, scope, fields: [...coordinates].sort() }];
    });
}

/** Merges the suggested requests per providing bureau (the decision suggests one per denied field's provider). */
function missingAgreements(requests: readonly AgreementRequest[]): readonly AgreementRequest[] {
  const byProvider = new Map<string, AgreementRequest>();
  for (const request of requests) {
    const known = byProvider.get(request.providerBureau);
    byProvider.set(
      request.providerBureau,
      known
        ? { ...known, fields: [...new Set([...known.fields, ...request.fields])].sort(), suggestedMasks: { ...known.suggestedMasks, ...request.suggestedMasks } }
        : request,
    );
  }
  return [...byProvider.values()];
}

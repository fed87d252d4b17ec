import type { Agreement, RowScope } from './agreement.ts';
import type { Catalogue, MaskKind } from './catalogue.ts';
import type { OperationPlan, PlannedField } from './field-plan.ts';
import type { MaskedPath } from './masks.ts';
import type { Principal, RequestPurpose } from './principal.ts';

/**
 * What a decision on one operation is: for every planned field, allow, mask or
 * deny, and why; and what it is made from ({@link DecideInput}). The rules are
 * `decideOperation` in `decide.ts`, which re-exports all of this.
 */

/** Why a field is withheld. A `switch` over it is exhaustive. */
export type DenyReason =
  /** The principal names no consumer bureau. */
  | 'NO_BUREAU'
  /** The token holds no role, so it reads none of its own bureau's data either (level 3: every user is someone with a duty). */
  | 'NO_ROLE'
  /** The field is not in the catalogue (or the operation is not a query). */
  | 'UNKNOWN_FIELD'
  /** 不予共享: the field never leaves its bureau. */
  | 'NONE_CATEGORY'
  /** A citizen's token reaching beyond the citizen's own record, or a `SELF` agreement used without one. */
  | 'SELF_SCOPE'
  /** No agreement of this consumer bureau with the provider covers the field. */
  | 'NO_AGREEMENT'
  /** An agreement covers it, for another app of the consumer bureau. */
  | 'APP_MISMATCH'
  /** An agreement covers it but is a draft, pending, revoked or rejected. */
  | 'AGREEMENT_NOT_ACTIVE'
  /** An agreement covers it; the token lacks the agreement's scope. */
  | 'SCOPE_MISSING'
  /** An agreement covers it for a purpose; the request states none. */
  | 'PURPOSE_MISSING'
  /** An agreement covers it for another purpose than the one stated. */
  | 'PURPOSE_MISMATCH'
  /** An agreement covers it from a later date. */
  | 'NOT_YET_VALID'
  /** The agreement that covered it has expired. */
  | 'EXPIRED'
  /** An agreement covers it for reads that name a case file; the request names none. */
  | 'CASE_ID_REQUIRED'
  /** An agreement covers it for case ids of a format; the request's case id is not of it. */
  | 'CASE_ID_FORMAT'
  /** An agreement covers it for the documents it pins; the request's document is not one of them. */
  | 'OPERATION_NOT_PINNED'
  /** The field is inside one that was denied, so it is not read either. */
  | 'PARENT_DENIED';

/** All deny reasons, for validation and exhaustive tables. */
export const DENY_REASONS: readonly DenyReason[] = [
  'NO_BUREAU',
  'NO_ROLE',
  'UNKNOWN_FIELD',
  'NONE_CATEGORY',
  'SELF_SCOPE',
  'NO_AGREEMENT',
  'APP_MISMATCH',
  'AGREEMENT_NOT_ACTIVE',
  'SCOPE_MISSING',
  'PURPOSE_MISSING',
  'PURPOSE_MISMATCH',
  'NOT_YET_VALID',
  'EXPIRED',
  'CASE_ID_REQUIRED',
  'CASE_ID_FORMAT',
  'OPERATION_NOT_PINNED',
  'PARENT_DENIED',
];

/** The agreement a consumer should ask the provider for: the explain tool turns it into a draft. */
export interface AgreementRequest {
  readonly consumerBureau: string;
  readonly consumerApp: string;
  readonly providerBureau: string;
  /** Every coordinate of this provider that the operation was denied for want of an agreement, sorted. */
  readonly fields: readonly string[];
  /** The catalogue's default mask of each field that has one. */
  readonly suggestedMasks: Readonly<Record<string, MaskKind>>;
  /** The purpose the request stated, if any. */
  readonly purpose?: string;
  /** `SELF` for a citizen token, which only ever reads the citizen's own record; `ANY` otherwise. */
  readonly rowScope: RowScope;
}

/**
 * What would let a denied field through: an existing agreement, once the
 * token carries its scope and the request its purpose (or once it is
 * approved or in force), or a new agreement to request.
 */
export type WouldAllow =
  | {
      readonly agreementId: string;
      readonly scope: string;
      readonly purpose: string;
      /** Set when the agreement requires a case id: the request must name one (of `format`, if set). */
      readonly caseId?: { readonly format?: string };
      /** Set when the agreement pins operations: the hashes of the documents it lets run. */
      readonly operations?: readonly string[];
    }
  | { readonly request: AgreementRequest };

interface DecisionBase {
  /** The planned field's {@link PlannedField.key}. */
  readonly key: string;
  readonly path: readonly string[];
  readonly coordinate: string;
  /** The bureau that provides the field (or serves the root field); absent for introspection and unknown fields. */
  readonly bureau?: string;
}

/** Released as it is. `agreementId` names the agreement whose terms released it, if one did. */
export interface AllowDecision extends DecisionBase {
  readonly effect: 'allow';
  readonly agreementId?: string;
}

/** Released, masked. */
export interface MaskDecision extends DecisionBase {
  readonly effect: 'mask';
  readonly mask: MaskKind;
  readonly agreementId?: string;
}

/** Withheld. The message names the agreement that is missing or what it lacks; it never carries personal data. */
export interface DenyDecision extends DecisionBase {
  readonly effect: 'deny';
  readonly reason: DenyReason;
  readonly message: string;
  readonly wouldAllow?: WouldAllow;
}

/** The decision on one planned field. */
export type FieldDecision = AllowDecision | MaskDecision | DenyDecision;

/** How the operation as a whole fares: nothing withheld, some data released, or no data released. */
export type DecisionOutcome = 'ALLOWED' | 'PARTIAL' | 'DENIED';

/** The decision on one operation. */
export interface OperationDecision {
  /** Every planned field's decision, by {@link PlannedField.key}. */
  readonly fields: ReadonlyMap<string, FieldDecision>;
  /** The denied fields, one entry per path, in plan order. */
  readonly denied: readonly DenyDecision[];
  /** Where the result must be masked, for `maskResult`. */
  readonly masks: readonly MaskedPath[];
  /** Agreements whose terms released data, sorted. */
  readonly agreementIds: readonly string[];
  /** Bureaus whose data or root fields the allowed part touches (the caller's own included), sorted. */
  readonly providerBureaus: readonly string[];
  /** Coordinates of the data fields asked for (root and introspection fields aside), sorted. */
  readonly requested: readonly string[];
  /** Data fields released, each with its mask, sorted. */
  readonly released: readonly { readonly coordinate: string; readonly mask?: MaskKind }[];
  readonly outcome: DecisionOutcome;
}

/** Everything a decision depends on; nothing else is read, the clock included. */
export interface DecideInput {
  readonly plan: OperationPlan;
  readonly principal: Principal;
  readonly purpose: RequestPurpose;
  readonly agreements: readonly Agreement[];
  readonly catalogue: Catalogue;
  readonly now: Date;
  /**
   * The hash of the document as executed (`sha256:<hex>` of its text), for
   * agreements that pin operations; absent, no pinned agreement applies.
   */
  readonly operationHash?: string;
  /** The entity whose key a citizen token's `citizen` is. Default {@link DEFAULT_CITIZEN_ENTITY}. */
  readonly citizenEntity?: string;
}

/** Citizens are residents: a citizen token's `citizen` is a `Person` key. */
export const DEFAULT_CITIZEN_ENTITY = 'Person';

import type { MaskKind } from './catalogue.ts';
import type { OperationHash } from './agreement-operations.ts';

/**
 * A sharing agreement (共享协议): the providing bureau's approval for one
 * consumer bureau and client app to read named fields, for a purpose, on a
 * legal basis, for a time.
 */

/** `DRAFT → PENDING → ACTIVE → (REVOKED | EXPIRED)`, or `PENDING → REJECTED`. */
export type AgreementStatus = 'DRAFT' | 'PENDING' | 'ACTIVE' | 'REVOKED' | 'EXPIRED' | 'REJECTED';

/** `ANY`: any record; `SELF`: only records whose data subject is the token's citizen. */
export type RowScope = 'ANY' | 'SELF';

/** One sharing agreement, as stored and as decisions read it. Readonly: a change is a new version and an event. */
export interface Agreement {
  /** Stable id, e.g. `agr-7f3a9c`. */
  readonly id: string;
  /** Increases with every change of the agreement. */
  readonly version: number;
  readonly consumerBureau: string;
  readonly consumerApp: string;
  readonly providerBureau: string;
  /** Exact coordinates, `Type.field`, all provided by `providerBureau`. */
  readonly fields: readonly string[];
  /** Masks per coordinate, on top of (never weaker than) the catalogue's. */
  readonly masks: Readonly<Record<string, MaskKind>>;
  /** The purpose requests must state to use it (`social-assistance-eligibility`). */
  readonly purpose: string;
  /** The statute or regulation that allows the sharing. */
  readonly legalBasis: string;
  readonly rowScope: RowScope;
  /** The token scope that exercises the agreement; a token must carry it. */
  readonly scope: string;
  /** ISO 8601 instants; the agreement is in force in [validFrom, validUntil). */
  readonly validFrom: string;
  readonly validUntil: string;
  readonly status: AgreementStatus;
  /** User ids (token `user`, else `sub`) of the requester and the approver: never the same person. */
  readonly requestedBy: string;
  /**
   * The requester's account at their identity provider (token `iss` and
   * `sub`), kept so that separation of duties compares a stable identity
   * (`same-person.ts`), not only the display id. Absent on agreements stored
   * before it was kept.
   */
  readonly requester?: { readonly issuer: string; readonly subject: string };
  readonly approvedBy?: string;
  /** For `PENDING`: the date (ISO) by which the provider should answer. */
  readonly replyBy?: string;
  /** For `REJECTED`: the written reasons, shown to the requester. */
  readonly rejectionReason?: string;
  /**
   * For `REVOKED`: the written reasons, shown to the requester. Added beside
   * `rejectionReason` because a revocation ends a working service and its
   * reasons must be as visible as a rejection's.
   */
  readonly revocationReason?: string;
  /** Access log entries made under it stay hidden from the citizen this many days, for this legal reason. */
  readonly disclosureDelay?: { readonly days: number; readonly legalReason: string };
  /**
   * How much the consumer may use the agreement (`policies/agreement-quota.ts`): requests per
   * fixed minute, records returned per calendar day in the city. Absent: no quota.
   */
  readonly quota?: AgreementQuota;
  /**
   * Reads under it must name the case file they serve (token claim or
   * `x-isthmus-case-id`), matching `format` when one is set (an anchored
   * pattern of `agreement-case-id.ts`'s safe grammar, e.g. `^GA-\d{4}-\d{6}$`).
   * Absent on agreements stored before it, and on those that need no case id.
   */
  readonly caseId?: { readonly required: true; readonly format?: string };
  /**
   * The documents reads under it may run, by hash (`sha256:<hex>` of the
   * document text, as the app registered it: `agreement-operations.ts`): the
   * officer approves these queries, and any other is denied
   * `OPERATION_NOT_PINNED`. 1 to 50 distinct hashes; absent: any document.
   */
  readonly operations?: readonly OperationHash[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** An agreement's rate quota; each limit is optional, and at least one is set. */
export interface AgreementQuota {
  readonly requestsPerMinute?: number;
  readonly recordsPerDay?: number;
}

import type { MaskKind } from './catalogue.ts';
import type { Role } from './principal.ts';

/**
 * What the access log records about one operation that touched another
 * bureau's data: who read what, about whom, why, and how it ended. Plain
 * data, built by enforcement (`enforce.ts`); the gateway adds what only it
 * knows (the request id, the time taken, the document's hash) and appends it.
 * Variables' values are never part of it; the data subjects answer "who read me".
 */

/** How an operation that touched another bureau's data ended. */
export type AccessOutcome = 'ALLOWED' | 'PARTIAL' | 'DENIED' | 'FAILED';

/** Whose record was read: a resident (by ID number) or an enterprise (by credit code). */
export interface DataSubject {
  readonly kind: 'person' | 'enterprise';
  readonly id: string;
}

/** A bureau that could not serve its part of an operation, and why (`timeout`, `breaker-open`, `failed`, …). */
export interface UpstreamFailure {
  readonly bureau: string;
  readonly reason: string;
}

/** An agreement an operation used, as the log records it. */
export interface AgreementUsed {
  readonly id: string;
  readonly legalBasis: string;
  readonly purpose: string;
}

/** The access log's record of one operation. */
export interface AccessRecord {
  /** When the read happened (the clock enforcement was given). */
  readonly occurredAt: Date;
  readonly consumerBureau: string;
  readonly clientApp: string;
  readonly user?: string;
  readonly roles: readonly Role[];
  /** The signed-in citizen for citizen-app tokens. */
  readonly citizen?: string;
  readonly purpose?: string;
  readonly caseId?: string;
  /** Agreements whose terms released data in this operation. */
  readonly agreementIds: readonly string[];
  /**
   * The same agreements with the legal basis and purpose they stated at the
   * read, in `agreementIds` order: what the auditor and the citizen are told
   * the read rested on, kept as it was even if the agreement later changes.
   * Absent on entries written before it was kept, and when no agreement was used.
   */
  readonly agreements?: readonly AgreementUsed[];
  /** Bureaus whose data was released or refused: a refused attempt is audited by the bureau it targeted. */
  readonly providerBureaus: readonly string[];
  /** Coordinates (`Person.name`) the operation asked for. */
  readonly fieldsRequested: readonly string[];
  /** Coordinates released, with the mask applied to each, if any. */
  readonly fieldsReturned: readonly { readonly coordinate: string; readonly mask?: MaskKind }[];
  /** Each denied field with the reason the decision gave. */
  readonly denied: readonly { readonly coordinate: string; readonly path: string; readonly reason: string }[];
  /** Records whose data was returned, gathered from the result. */
  readonly subjects: readonly DataSubject[];
  /** Records returned per provider bureau. */
  readonly rowCounts: Readonly<Record<string, number>>;
  readonly upstreamErrors: readonly UpstreamFailure[];
  /** The executed operation's own name, when it has one. */
  readonly operationName?: string;
  readonly outcome: AccessOutcome;
  /** Set when an agreement delays disclosure to the citizen (an investigation must not alert its subject). */
  readonly disclosure?: { readonly hiddenUntil: Date; readonly legalReason: string };
}

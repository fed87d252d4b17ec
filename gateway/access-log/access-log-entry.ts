import type { MaskKind } from '../../policies/catalogue.ts';
import type { Role } from '../../policies/principal.ts';

/** How an operation that touched another bureau's data ended. */
export type AccessOutcome = 'ALLOWED' | 'PARTIAL' | 'DENIED' | 'FAILED';

/** Whose record was read: a resident (by ID number) or an enterprise (by credit code). */
export interface DataSubject {
  readonly kind: 'person' | 'enterprise';
  readonly id: string;
}

/**
 * One access log entry as the gateway hands it to the log: who read what,
 * about whom, why, and how it ended. Variables' values are never part of
 * it; the data subjects answer "who read me".
 */
export interface AccessLogEntryInput {
  readonly requestId: string;
  readonly occurredAt: Date;
  /** What was done: a GraphQL read of bureau data, or a read of the access log itself. */
  readonly action: 'READ' | 'LOG_READ';
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
  readonly upstreamErrors: readonly { readonly bureau: string; readonly reason: string }[];
  readonly durationMs: number;
  /** SHA-256 of the operation's document text, hex. */
  readonly operationHash: string;
  readonly operationName?: string;
  readonly outcome: AccessOutcome;
  /** Set when an agreement delays disclosure to the citizen (an investigation must not alert its subject). */
  readonly disclosure?: { readonly hiddenUntil: Date; readonly legalReason: string };
}

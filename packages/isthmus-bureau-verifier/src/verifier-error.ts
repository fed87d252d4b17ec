/**
 * Why an `x-isthmus-consumer` assertion was refused. One code per failure, so
 * a bureau's `switch` over them is exhaustive:
 *
 * - 401, the request did not come through the gateway as it claims:
 *   `ASSERTION_MISSING`, `ASSERTION_MALFORMED`, `ASSERTION_EXPIRED`,
 *   `SIGNATURE_INVALID` (not signed by a key the gateway publishes),
 *   `ISSUER_MISMATCH`, `CLAIM_INVALID`;
 * - 403, a genuine assertion that does not speak to this bureau:
 *   `AUDIENCE_MISMATCH` (not addressed to exactly one bureau),
 *   `ASSERTION_FOR_ANOTHER_BUREAU` (addressed to another bureau and replayed
 *   here), `AGREEMENT_NOT_ACCEPTED` (names none of the agreements this bureau
 *   accepts);
 * - 503, not the caller's fault: `KEYS_UNAVAILABLE` (the gateway's JWKS could
 *   not be fetched in time).
 */
export type VerifierErrorCode =
  | 'ASSERTION_MISSING'
  | 'ASSERTION_MALFORMED'
  | 'ASSERTION_EXPIRED'
  | 'SIGNATURE_INVALID'
  | 'ISSUER_MISMATCH'
  | 'CLAIM_INVALID'
  | 'AUDIENCE_MISMATCH'
  | 'ASSERTION_FOR_ANOTHER_BUREAU'
  | 'AGREEMENT_NOT_ACCEPTED'
  | 'KEYS_UNAVAILABLE';

/** The HTTP status a refusal answers with. */
export type VerifierStatus = 401 | 403 | 503;

/**
 * The base of every refusal. Messages are for the bureau's developers and
 * never quote the assertion; what jose said is in `cause`.
 */
export abstract class VerifierError extends Error {
  abstract readonly code: VerifierErrorCode;
  abstract readonly status: VerifierStatus;
  override readonly name: string = this.constructor.name;
}

/** No `x-isthmus-consumer` header: the request did not come through Isthmus. */
export class AssertionMissing extends VerifierError {
  readonly code = 'ASSERTION_MISSING';
  readonly status = 401;
}

/** Not a compact JWS, too long, or sent twice. */
export class AssertionMalformed extends VerifierError {
  readonly code = 'ASSERTION_MALFORMED';
  readonly status = 401;
}

/** Past its `exp`, or issued longer ago than the verifier's maximum age. */
export class AssertionExpired extends VerifierError {
  readonly code = 'ASSERTION_EXPIRED';
  readonly status = 401;
}

/** Signed by a key the gateway does not publish, or not by its algorithm. */
export class SignatureInvalid extends VerifierError {
  readonly code = 'SIGNATURE_INVALID';
  readonly status = 401;
}

/** `iss` is not the gateway, or `typ` is not a consumer assertion's (an access token passed off as one). */
export class IssuerMismatch extends VerifierError {
  readonly code = 'ISSUER_MISMATCH';
  readonly status = 401;
}

/** A claim the gateway always sets is absent or of the wrong shape. */
export class ClaimInvalid extends VerifierError {
  readonly code = 'CLAIM_INVALID';
  readonly status = 401;
  /** The claim's name, e.g. `consumer_bureau`. */
  readonly claim: string;
  constructor(message: string, claim: string, options?: ErrorOptions) {
    super(message, options);
    this.claim = claim;
  }
}

/** `aud` is absent or names several parties: the gateway addresses each assertion to exactly one bureau. */
export class AudienceMismatch extends VerifierError {
  readonly code = 'AUDIENCE_MISMATCH';
  readonly status = 403;
}

/** A genuine assertion the gateway addressed to another bureau, replayed here. */
export class AssertionForAnotherBureau extends VerifierError {
  readonly code = 'ASSERTION_FOR_ANOTHER_BUREAU';
  readonly status = 403;
  /** The bureau it was addressed to (a bureau id, never personal data). */
  readonly audience: string;
  constructor(message: string, audience: string, options?: ErrorOptions) {
    super(message, options);
    this.audience = audience;
  }
}

/** None of the agreements the assertion names is one this bureau accepts. */
export class AgreementNotAccepted extends VerifierError {
  readonly code = 'AGREEMENT_NOT_ACCEPTED';
  readonly status = 403;
}

/** The gateway's JWKS could not be fetched, or was not a key set. */
export class KeysUnavailable extends VerifierError {
  readonly code = 'KEYS_UNAVAILABLE';
  readonly status = 503;
}

/** Whether `error` is one of this package's refusals. */
export function isVerifierError(error: unknown): error is VerifierError {
  return error instanceof VerifierError;
}

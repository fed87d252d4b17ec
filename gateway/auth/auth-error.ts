/**
 * Why a request could not be authenticated. Every failure of `gateway/auth`
 * is one subclass of {@link AuthError} with a stable `code`, so the gateway's
 * error table can map all of them to `UNAUTHENTICATED` (or, for
 * `KEYS_UNAVAILABLE` and `KEY_NOT_YET_KNOWN`, to a retryable failure) with an exhaustive `switch`.
 *
 * Messages are written for the developer holding the token ("the token
 * expired at 2026-03-01T10:00:00.000Z") and never quote the token itself.
 */

/** Stable codes of {@link AuthError}. */
export type AuthErrorCode =
  | 'TOKEN_MISSING'
  | 'TOKEN_MALFORMED'
  | 'ISSUER_UNKNOWN'
  | 'SIGNATURE_INVALID'
  | 'ALGORITHM_NOT_ALLOWED'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_NOT_YET_VALID'
  | 'AUDIENCE_MISMATCH'
  | 'CLAIM_INVALID'
  | 'KEYS_UNAVAILABLE'
  | 'KEY_NOT_YET_KNOWN'
  | 'ISSUER_MISCONFIGURED';

/** Fields every {@link AuthError} may carry. */
export interface AuthErrorOptions {
  /** The issuer whose rules refused the token, once it is known. */
  readonly issuer?: string;
  /** The underlying failure, for logs. Never holds the token or its claims. */
  readonly cause?: unknown;
  /** For a failure that passes: when to try again, sent as `retry-after` instead of the error table's default. */
  readonly retryAfterSeconds?: number;
}

/** Base of every authentication failure. Narrow with `code` (see {@link AnyAuthError}). */
export abstract class AuthError extends Error {
  abstract readonly code: AuthErrorCode;
  /** The issuer whose rules refused the token, when the failure happened after the issuer was chosen. */
  readonly issuer: string | undefined;
  /** Seconds until a retry can succeed, when this failure knows (a key set's cooldown); else the error table's default applies. */
  readonly retryAfterSeconds: number | undefined;
  constructor(message: string, options: AuthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.issuer = options.issuer;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** No `Authorization: Bearer …` header (or no consumer assertion header). */
export class TokenMissing extends AuthError {
  override readonly code = 'TOKEN_MISSING';
}

/** The header or the token is not shaped like a compact JWS. */
export class TokenMalformed extends AuthError {
  override readonly code = 'TOKEN_MALFORMED';
}

/** The token's `iss` names no trusted issuer. */
export class IssuerUnknown extends AuthError {
  override readonly code = 'ISSUER_UNKNOWN';
}

/** The signature does not verify with any of the issuer's keys, or no key matches the token's `kid`. */
export class SignatureInvalid extends AuthError {
  override readonly code = 'SIGNATURE_INVALID';
}

/** The token's `alg` is not in the issuer's allow-list (this is where `none` and HS/RS confusion end). */
export class AlgorithmNotAllowed extends AuthError {
  override readonly code = 'ALGORITHM_NOT_ALLOWED';
  /** The `alg` the token claims. */
  readonly algorithm: string;
  constructor(message: string, algorithm: string, options?: AuthErrorOptions) {
    super(message, options);
    this.algorithm = algorithm;
  }
}

/** `exp` is in the past (beyond the clock tolerance). */
export class TokenExpired extends AuthError {
  override readonly code = 'TOKEN_EXPIRED';
  readonly expiredAt: Date;
  constructor(message: string, expiredAt: Date, options?: AuthErrorOptions) {
    super(message, options);
    this.expiredAt = expiredAt;
  }
}

/** `nbf` is in the future (beyond the clock tolerance). */
export class TokenNotYetValid extends AuthError {
  override readonly code = 'TOKEN_NOT_YET_VALID';
  readonly notBefore: Date;
  constructor(message: string, notBefore: Date, options?: AuthErrorOptions) {
    super(message, options);
    this.notBefore = notBefore;
  }
}

/** `aud` does not name the audience the issuer is configured with. */
export class AudienceMismatch extends AuthError {
  override readonly code = 'AUDIENCE_MISMATCH';
  readonly expected: readonly string[];
  constructor(message: string, expected: readonly string[], options?: AuthErrorOptions) {
    super(message, options);
    this.expected = expected;
  }
}

/** A claim is missing or has the wrong shape; `claim` names it as the issuer spells it. */
export class ClaimInvalid extends AuthError {
  override readonly code = 'CLAIM_INVALID';
  readonly claim: string;
  constructor(message: string, claim: string, options?: AuthErrorOptions) {
    super(message, options);
    this.claim = claim;
  }
}

/** The issuer's key set could not be fetched or parsed: not the caller's fault, worth a retry. */
export class KeysUnavailable extends AuthError {
  override readonly code = 'KEYS_UNAVAILABLE';
}

/**
 * The token names a `kid` the issuer's key set did not hold when it was
 * last fetched, and the refetch cooldown has not passed: most likely the
 * issuer has just rotated its keys. Not a forgery verdict — the token is
 * checked again once the cooldown allows a refetch (`retryAfterSeconds`).
 */
export class KeyNotYetKnown extends AuthError {
  override readonly code = 'KEY_NOT_YET_KNOWN';
}

/**
 * The issuer's configuration cannot work (its discovery document names
 * another issuer, its key set URL serves no key set): the operator's to fix,
 * reported at `/readyz`; neither the token's holder nor a retry can help.
 */
export class IssuerMisconfigured extends AuthError {
  override readonly code = 'ISSUER_MISCONFIGURED';
}

/** Every concrete failure, so a `switch (error.code)` narrows and is checked for exhaustiveness. */
export type AnyAuthError =
  | TokenMissing
  | TokenMalformed
  | IssuerUnknown
  | SignatureInvalid
  | AlgorithmNotAllowed
  | TokenExpired
  | TokenNotYetValid
  | AudienceMismatch
  | ClaimInvalid
  | KeysUnavailable
  | KeyNotYetKnown
  | IssuerMisconfigured;

/** True for any {@link AuthError}; narrows to {@link AnyAuthError}. */
export function isAuthError(error: unknown): error is AnyAuthError {
  return error instanceof AuthError;
}

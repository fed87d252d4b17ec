import { errors } from 'jose';
import {
  AuthError,
  AlgorithmNotAllowed,
  AudienceMismatch,
  ClaimInvalid,
  IssuerUnknown,
  KeysUnavailable,
  SignatureInvalid,
  TokenExpired,
  TokenMalformed,
  TokenNotYetValid,
} from './auth-error.ts';

/** What the message may say about the check that failed. */
export interface VerificationContext {
  /** The issuer whose rules were applied. */
  readonly issuer: string;
  /** What is being verified, for messages: `token` or `consumer assertion`. */
  readonly subject: string;
  readonly audience: readonly string[];
  readonly algorithms: readonly string[];
  readonly clockToleranceSeconds: number;
  /** The token's header, decoded without trust, for `kid`/`alg` in messages. */
  readonly header: { readonly alg?: unknown; readonly kid?: unknown };
  /** Where remote keys come from; undefined for configured keys. */
  readonly jwksUrl: string | undefined;
  readonly fetchTimeoutMs: number;
}

/**
 * Turns a jose failure into the `AuthError` a developer can act on.
 * Claim failures are not kept as `cause`: jose attaches the whole claims
 * set to them, and that may hold a citizen's ID number, which must not reach
 * the logs. Anything that is neither a jose error nor a key-fetch failure is
 * returned unchanged (a bug, to be reported as one).
 */
export function toAuthError(error: unknown, context: VerificationContext): unknown {
  const { issuer, subject } = context;
  // Already sorted (a key set's KEY_NOT_YET_KNOWN, KEYS_UNAVAILABLE, ISSUER_MISCONFIGURED).
  if (error instanceof AuthError) return error;
  if (error instanceof errors.JWTExpired) {
    const payload = error.payload;
    if (error.claim === 'iat') {
      const issuedAt = typeof payload.iat === 'number' ? new Date(payload.iat * 1_000) : new Date(Number.NaN);
      return new TokenExpired(`the ${subject} was issued at ${isoOrUnknown(issuedAt)}, longer ago than ${subject}s may live`, issuedAt, { issuer });
    }
    const expiredAt = typeof payload.exp === 'number' ? new Date(payload.exp * 1_000) : new Date(Number.NaN);
    return new TokenExpired(`the ${subject} expired at ${isoOrUnknown(expiredAt)} (clock tolerance ${context.clockToleranceSeconds} s)`, expiredAt, { issuer });
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const payload = error.payload;
    switch (error.claim) {
      case 'nbf': {
        const notBefore = typeof payload.nbf === 'number' ? new Date(payload.nbf * 1_000) : new Date(Number.NaN);
        if (error.reason === 'invalid') return new ClaimInvalid(`claim "nbf" must be a number of seconds since the epoch`, 'nbf', { issuer });
        return new TokenNotYetValid(`the ${subject} is not valid before ${isoOrUnknown(notBefore)} (clock tolerance ${context.clockToleranceSeconds} s)`, notBefore, { issuer });
      }
      case 'aud':
        return new AudienceMismatch(`audience must be ${context.audience.length === 1 ? context.audience[0] : `one of ${context.audience.join(', ')}`}`, context.audience, { issuer });
      case 'iss':
        return new IssuerUnknown(`the ${subject}'s issuer must be ${issuer}`, { issuer });
      case 'exp':
        return error.reason === 'missing'
          ? new ClaimInvalid(`the ${subject} has no "exp" claim: only ${subject}s that expire are accepted`, 'exp', { issuer })
          : new ClaimInvalid(`claim "exp" must be a number of seconds since the epoch`, 'exp', { issuer });
      case 'typ':
        return new ClaimInvalid(`the ${subject}'s "typ" header is not the expected type`, 'typ', { issuer });
      default:
        return new ClaimInvalid(
          error.reason === 'missing' ? `the ${subject} has no "${error.claim}" claim` : `claim "${error.claim}" is not valid (${error.reason})`,
          error.claim,
          { issuer },
        );
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    const alg = String(context.header.alg);
    return new AlgorithmNotAllowed(`the ${subject} is signed with ${quote(alg)}; issuer ${issuer} accepts only ${context.algorithms.join(', ')}`, alg, { issuer, cause: error });
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new SignatureInvalid(`the ${subject}'s signature does not verify with issuer ${issuer}'s keys`, { issuer, cause: error });
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    const kid = context.header.kid === undefined ? 'no kid' : `kid ${quote(String(context.header.kid))}`;
    return new SignatureInvalid(`no key of issuer ${issuer} matches the ${subject} (${kid}, alg ${quote(String(context.header.alg))})`, { issuer, cause: error });
  }
  if (error instanceof errors.JWKSTimeout) {
    return new KeysUnavailable(`issuer ${issuer}'s keys did not arrive from ${where(context.jwksUrl)} within ${context.fetchTimeoutMs} ms`, { issuer, cause: error });
  }
  if (error instanceof errors.JWKSInvalid || error instanceof errors.JWKInvalid) {
    return new KeysUnavailable(`issuer ${issuer}'s key set at ${where(context.jwksUrl)} is not usable: ${error.message}`, { issuer, cause: error });
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return new TokenMalformed(`the ${subject} is malformed: ${error.message}`, { issuer, cause: error });
  }
  if (error instanceof errors.JOSENotSupported) {
    return new SignatureInvalid(`the ${subject} cannot be verified with issuer ${issuer}'s keys: ${error.message}`, { issuer, cause: error });
  }
  if (context.jwksUrl !== undefined && !isAbort(error)) {
    // jose reports a non-200 answer or bad JSON as a plain JOSEError, and a
    // refused connection as fetch's TypeError: either way the keys are out of reach.
    const detail = error instanceof errors.JOSEError ? error.message : 'the request failed';
    return new KeysUnavailable(`issuer ${issuer}'s keys could not be fetched from ${where(context.jwksUrl)}: ${detail}`, { issuer, cause: error });
  }
  return error;
}

/** An attacker-chosen header value, made safe to quote in a message or a log line. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

function isoOrUnknown(date: Date): string {
  return Number.isNaN(date.getTime()) ? 'an unreadable time' : date.toISOString();
}

/** The key set's address without query or credentials, which some deployments put there. */
function where(jwksUrl: string | undefined): string {
  if (jwksUrl === undefined) return 'the configuration';
  const url = new URL(jwksUrl);
  return `${url.origin}${url.pathname}`;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError') && !(error instanceof errors.JOSEError);
}

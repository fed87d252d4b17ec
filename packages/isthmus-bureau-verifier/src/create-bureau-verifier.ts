import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import {
  AgreementNotAccepted,
  AssertionExpired,
  AssertionForAnotherBureau,
  AssertionMalformed,
  AssertionMissing,
  AudienceMismatch,
  ClaimInvalid,
  IssuerMismatch,
  KeysUnavailable,
  SignatureInvalid,
  type VerifierError,
} from './verifier-error.ts';

/** The header the gateway sends its signed consumer assertion in. */
export const CONSUMER_ASSERTION_HEADER = 'x-isthmus-consumer';
/** The header the gateway sends its request id in, unsigned: it names the request for the logs, it does not authorise it. */
export const REQUEST_ID_HEADER = 'x-request-id';
/** Where the gateway publishes the keys of its consumer assertions, below its base URL. */
export const GATEWAY_JWKS_PATH = '/.well-known/isthmus-gateway-jwks.json';
/** The `iss` of every consumer assertion. */
export const GATEWAY_ISSUER = 'isthmus-gateway';
/** The JWS `typ` of a consumer assertion, so an access token can never pass for one. */
export const CONSUMER_ASSERTION_TYPE = 'isthmus-consumer+jwt';
/** The gateway signs with ES256 only; any other `alg` is refused before a key is looked up. */
export const CONSUMER_ASSERTION_ALGORITHM = 'ES256';

/** Clocks of the gateway and the bureau may differ by this much. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
/** Assertions issued longer ago than this are refused whatever their `exp` says (the gateway issues them for 60 s). */
export const DEFAULT_MAX_AGE_SECONDS = 120;
/** Bound on one fetch of the gateway's JWKS: a hanging gateway must not hang the bureau's requests. */
export const DEFAULT_FETCH_TIMEOUT_MS = 3_000;
/** Least time between two JWKS fetches caused by an unknown `kid`, so forged `kid`s cannot make the bureau hammer the gateway. */
export const DEFAULT_JWKS_COOLDOWN_MS = 30_000;
/** How long fetched keys are used before they are fetched again, so a rotation reaches the bureau. */
export const DEFAULT_JWKS_MAX_AGE_MS = 300_000;
/** Verified assertions kept by header value: the gateway reuses one assertion for many calls, so most checks are one map lookup. */
export const DEFAULT_CACHE_SIZE = 1_000;
/** Longer header values are refused unread. */
export const MAX_ASSERTION_LENGTH = 16_384;

/** What the gateway vouches for: who is asking this bureau, and under which agreements. */
export interface VerifiedConsumer {
  /** This bureau: the assertion's `aud`. */
  readonly provider: string;
  /** The consumer bureau (`consumer_bureau`). */
  readonly bureau: string;
  /** The consumer's client application (`consumer_app`). */
  readonly app: string;
  /** The user the consumer app acts for, when the gateway knows one. */
  readonly user?: string;
  /** The stated purpose of the request. */
  readonly purpose?: string;
  /** The consumer's case or file number, when given. */
  readonly caseId?: string;
  /** The agreements this request exercises at this bureau; empty when it reads only `OPEN` fields. */
  readonly agreements: readonly string[];
  /** `iat` and `exp`, seconds since the epoch. */
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/** Options of {@link createBureauVerifier}: `jwksUrl` or `keys`, not both. */
export interface BureauVerifierOptions {
  /** This bureau's id as the gateway's catalogue names it (`human-resources-social-security`); assertions must be addressed to it. */
  readonly bureau: string;
  /** The gateway's published keys, e.g. `https://isthmus.city.example/.well-known/isthmus-gateway-jwks.json` (see {@link GATEWAY_JWKS_PATH}). */
  readonly jwksUrl?: string | URL;
  /** Or the gateway's public keys themselves (an air-gapped bureau, tests). */
  readonly keys?: readonly JWK[];
  /**
   * The agreements this bureau accepts: a list of ids, or a predicate (e.g.
   * over the bureau's own register). Every agreement an assertion names must
   * pass, or it is refused with `AGREEMENT_NOT_ACCEPTED`. Default: all.
   */
  readonly acceptAgreements?: readonly string[] | ((agreementId: string) => boolean);
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
  /** Default {@link DEFAULT_CLOCK_TOLERANCE_SECONDS}. */
  readonly clockToleranceSeconds?: number;
  /** Default {@link DEFAULT_MAX_AGE_SECONDS}. */
  readonly maxAgeSeconds?: number;
  /** Default {@link DEFAULT_FETCH_TIMEOUT_MS}. */
  readonly fetchTimeoutMs?: number;
  /** Default {@link DEFAULT_JWKS_COOLDOWN_MS}. */
  readonly jwksCooldownMs?: number;
  /** Default {@link DEFAULT_JWKS_MAX_AGE_MS}. */
  readonly jwksMaxAgeMs?: number;
  /** Default {@link DEFAULT_CACHE_SIZE}. */
  readonly cacheSize?: number;
}

/** Checks the gateway's consumer assertions on a bureau's side. */
export interface BureauVerifier {
  /** This bureau's id. */
  readonly bureau: string;
  /**
   * Verifies one `x-isthmus-consumer` header value.
   *
   * @throws VerifierError — see {@link VerifierErrorCode} for the codes.
   */
  verify(assertion: string | null | undefined, signal?: AbortSignal): Promise<VerifiedConsumer>;
  /** Signature checks made so far; a repeated assertion is checked once. */
  verifications(): number;
}

interface Verified {
  readonly consumer: Promise<VerifiedConsumer>;
  /** Until when the cached verdict holds; `Infinity` while the verification is in flight. */
  validUntilMs: number;
}

/**
 * Creates a bureau's verifier of the gateway's consumer assertions. Options
 * are checked here; nothing is fetched until the first assertion arrives.
 *
 * A verified assertion is cached by its header value until its `exp` (never
 * past `maxAgeSeconds`), and concurrent checks of one assertion share one
 * verification.
 *
 * @example
 * const verifier = createBureauVerifier({ bureau: 'public-security', jwksUrl: `${gatewayUrl}${GATEWAY_JWKS_PATH}` });
 * const consumer = await verifier.verify(request.headers['x-isthmus-consumer']);
 * consumer.bureau; // 'civil-affairs'
 */
export function createBureauVerifier(options: BureauVerifierOptions): BureauVerifier {
  const { bureau } = options;
  const now = options.now ?? Date.now;
  const clockTolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  const maxAgeSeconds = options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS;
  const fetchTimeoutMs = options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  const cooldownMs = options.jwksCooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS;
  const jwksMaxAgeMs = options.jwksMaxAgeMs ?? DEFAULT_JWKS_MAX_AGE_MS;
  const cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  const problems: string[] = [];
  const whole = (name: string, value: number, min: number, max: number): void => {
    if (!Number.isInteger(value) || value < min || value > max) problems.push(`${name} must be a whole number from ${min} to ${max}`);
  };
  if (typeof bureau !== 'string' || bureau === '') problems.push('bureau must be the id of this bureau');
  if ((options.jwksUrl === undefined) === (options.keys === undefined)) problems.push('give jwksUrl or keys, one of them');
  whole('clockToleranceSeconds', clockTolerance, 0, 300);
  whole('maxAgeSeconds', maxAgeSeconds, 1, 3_600);
  whole('fetchTimeoutMs', fetchTimeoutMs, 1, 60_000);
  whole('jwksCooldownMs', cooldownMs, 0, 3_600_000);
  whole('jwksMaxAgeMs', jwksMaxAgeMs, 1, 86_400_000);
  whole('cacheSize', cacheSize, 1, 1_000_000);
  const accepts = acceptance(options.acceptAgreements, problems);
  let jwksUrl: URL | undefined;
  if (options.jwksUrl !== undefined) {
    try {
      jwksUrl = new URL(options.jwksUrl);
      if (jwksUrl.protocol !== 'https:' && jwksUrl.protocol !== 'http:') problems.push('jwksUrl must be an http(s) URL');
    } catch {
      problems.push('jwksUrl must be an absolute URL');
    }
  }
  if (problems.length > 0) throw new TypeError(`bureau verifier: ${problems.join('; ')}`);

  const keySet = jwksUrl ? remoteKeys(jwksUrl, fetchTimeoutMs, cooldownMs, jwksMaxAgeMs) : createLocalJWKSet({ keys: options.keys!.map((jwk) => ({ ...jwk })) });
  // Insertion order is age order: the first key is the one to evict.
  const verified = new Map<string, Verified>();
  let verificationCount = 0;

  const verifySignature = async (assertion: string): Promise<VerifiedConsumer> => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(assertion, keySet, {
        issuer: GATEWAY_ISSUER,
        algorithms: [CONSUMER_ASSERTION_ALGORITHM],
        typ: CONSUMER_ASSERTION_TYPE,
        requiredClaims: ['exp', 'iat', 'aud'],
        maxTokenAge: maxAgeSeconds,
        clockTolerance,
        currentDate: new Date(now()),
      }));
    } catch (error) {
      throw refusal(error);
    }
    return consumerOf(payload, bureau);
  };

  const cached = (assertion: string): Promise<VerifiedConsumer> => {
    const hit = verified.get(assertion);
    if (hit !== undefined) {
      if (now() < hit.validUntilMs) return hit.consumer;
      verified.delete(assertion);
    }
    verificationCount += 1;
    const consumer = verifySignature(assertion);
    const entry: Verified = { consumer, validUntilMs: Number.POSITIVE_INFINITY };
    if (verified.size >= cacheSize) verified.delete(verified.keys().next().value!);
    verified.set(assertion, entry);
    consumer.then(
      (claims) => {
        entry.validUntilMs = Math.min(claims.expiresAt, claims.issuedAt + maxAgeSeconds) * 1_000;
      },
      () => {
        if (verified.get(assertion) === entry) verified.delete(assertion);
      },
    );
    return consumer;
  };

  return {
    bureau,
    verifications: () => verificationCount,
    async verify(assertion, signal) {
      signal?.throwIfAborted();
      if (assertion === undefined || assertion === null || assertion === '') {
        throw new AssertionMissing(`no consumer assertion: the request did not come through Isthmus (header ${CONSUMER_ASSERTION_HEADER})`);
      }
      if (typeof assertion !== 'string' || assertion.length > MAX_ASSERTION_LENGTH) throw new AssertionMalformed('the consumer assertion is not a compact JWS');
      // Not abortable at the source: other requests may wait on the same
      // verification. The caller stops waiting; the key fetch has its own bound.
      const consumer = await abortable(cached(assertion), signal);
      const refused = consumer.agreements.find((agreement) => !accepts(agreement));
      if (refused !== undefined) throw new AgreementNotAccepted('the consumer assertion names an agreement this bureau does not accept');
      return consumer;
    },
  };
}

function acceptance(accept: BureauVerifierOptions['acceptAgreements'], problems: string[]): (agreementId: string) => boolean {
  if (accept === undefined) return () => true;
  if (typeof accept === 'function') return accept;
  if (!Array.isArray(accept) || !accept.every((id) => typeof id === 'string' && id !== '')) {
    problems.push('acceptAgreements must be a list of agreement ids or a function');
    return () => false;
  }
  const accepted = new Set(accept);
  return (agreementId) => accepted.has(agreementId);
}

/** Marks what goes wrong while fetching the gateway's keys, so it is told apart from a bad assertion. */
class KeyFetchFailed extends Error {}

/**
 * The gateway's remote key set, its fetch bounded by `timeoutDuration`.
 * A `kid` the set does not have is the assertion's fault (wrong key); a
 * fetch that fails or answers nonsense is nobody's fault but the network's.
 */
function remoteKeys(url: URL, timeoutDuration: number, cooldownDuration: number, cacheMaxAge: number): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(url, { timeoutDuration, cooldownDuration, cacheMaxAge });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys || error instanceof errors.JOSEAlgNotAllowed) throw error;
      throw new KeyFetchFailed('the gateway keys could not be fetched', { cause: error });
    }
  };
}

/** jose's verdict as one of this package's refusals; the original is kept as `cause`. */
function refusal(error: unknown): VerifierError {
  const cause = { cause: error };
  if (error instanceof KeyFetchFailed) return new KeysUnavailable('the gateway keys could not be fetched in time; try again later', cause);
  if (error instanceof errors.JWTExpired) return new AssertionExpired('the consumer assertion has expired', cause);
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss' || error.claim === 'typ') return new IssuerMismatch('this is not a consumer assertion issued by the Isthmus gateway', cause);
    if (error.claim === 'aud') return new AudienceMismatch('the consumer assertion is addressed to no bureau', cause);
    return new ClaimInvalid(`claim "${error.claim}" of the consumer assertion is missing or not valid now`, error.claim, cause);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys || error instanceof errors.JOSEAlgNotAllowed) {
    return new SignatureInvalid('the consumer assertion is not signed by a key the gateway publishes', cause);
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported) {
    return new AssertionMalformed('the consumer assertion is not a compact JWS', cause);
  }
  if (error instanceof errors.JOSEError) return new SignatureInvalid('the consumer assertion could not be verified', cause);
  return new KeysUnavailable('the consumer assertion could not be verified now; try again later', cause);
}

/** The claims as a {@link VerifiedConsumer}, once the signature holds; the audience is checked here so a replay can be named as one. */
function consumerOf(payload: JWTPayload, bureau: string): VerifiedConsumer {
  const audience = Array.isArray(payload.aud) && payload.aud.length === 1 ? payload.aud[0] : payload.aud;
  if (typeof audience !== 'string' || audience === '') throw new AudienceMismatch('the consumer assertion is not addressed to exactly one bureau');
  if (audience !== bureau) throw new AssertionForAnotherBureau('the consumer assertion was issued for another bureau', audience);
  const text = (claim: string, required: boolean): string | undefined => {
    const value = payload[claim];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || value === '') throw new ClaimInvalid(`claim "${claim}" of the consumer assertion must be a non-empty string`, claim);
    return value;
  };
  const agreements = payload.agreements;
  if (!Array.isArray(agreements) || !agreements.every((agreement) => typeof agreement === 'string' && agreement !== '')) {
    throw new ClaimInvalid('claim "agreements" of the consumer assertion must be a list of agreement ids', 'agreements');
  }
  const user = text('user', false);
  const purpose = text('purpose', false);
  const caseId = text('case_id', false);
  return Object.freeze({
    provider: bureau,
    bureau: text('consumer_bureau', true)!,
    app: text('consumer_app', true)!,
    ...(user === undefined ? {} : { user }),
    ...(purpose === undefined ? {} : { purpose }),
    ...(caseId === undefined ? {} : { caseId }),
    agreements: Object.freeze([...(agreements as string[])]),
    issuedAt: payload.iat!,
    expiresAt: payload.exp!,
  });
}

/** `promise`, or a rejection as soon as `signal` aborts: the caller stops waiting, the work goes on for others. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

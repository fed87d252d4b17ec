import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify, SignJWT, type JSONWebKeySet, type JWK, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { ClaimInvalid, TokenMalformed, TokenMissing } from './auth-error.ts';
import { abortable } from './abortable.ts';
import { SIGNING_ALGORITHM } from './signing-key.ts';
import { openRotatingSigningKey, type SigningKeyReload } from './rotating-signing-key.ts';
import { toAuthError, type VerificationContext } from './to-auth-error.ts';
import { DEFAULT_CLOCK_TOLERANCE_SECONDS, MAX_CLOCK_TOLERANCE_SECONDS } from './issuer-config.ts';
import { DEFAULT_JWKS_COOLDOWN_MS, DEFAULT_JWKS_MAX_AGE_MS, DEFAULT_JWKS_TIMEOUT_MS, MAX_TOKEN_LENGTH } from './verify-token.ts';

/**
 * Consumer assertions: a short-lived JWS the gateway attaches to every call
 * it makes to a providing bureau (header `x-isthmus-consumer`), so the
 * bureau's own system can check that the request came through Isthmus and
 * for whom — which bureau, app, user, purpose and agreements — without
 * trusting the network path. The request id travels beside it, unsigned, as
 * `x-request-id`: it names the request for the logs, and it is not what a
 * bureau decides on.
 */

/** The `iss` of consumer assertions. */
export const GATEWAY_ISSUER = 'isthmus-gateway';
/** The header that carries the assertion to the providing bureau. */
export const CONSUMER_ASSERTION_HEADER = 'x-isthmus-consumer';
/** Where the gateway serves the public keys of its consumer assertions, for bureaus to fetch. */
export const GATEWAY_JWKS_PATH = '/.well-known/isthmus-gateway-jwks.json';
/** The JWS `typ`, so an assertion can never pass for an access token, nor an access token for an assertion (RFC 8725 §3.11). */
export const CONSUMER_ASSERTION_TYPE = 'isthmus-consumer+jwt';
/** The gateway's signing key file, inside the keys folder (`.isthmus/` by default). */
export const GATEWAY_SIGNING_KEY_FILE = 'gateway-signing.json';
/** Life of an assertion. */
export const DEFAULT_CONSUMER_ASSERTION_TTL_SECONDS = 60;
/** Most distinct assertions the signer keeps for reuse (one per consumer app, user, purpose, case and agreement set, per bureau). */
export const DEFAULT_CONSUMER_ASSERTION_CACHE_SIZE = 10_000;
/** A verifier refuses assertions issued longer ago than this, whatever their `exp` says. */
export const DEFAULT_CONSUMER_ASSERTION_MAX_AGE_SECONDS = 120;

/** What the gateway vouches for, towards one providing bureau. */
export interface ConsumerAssertionInput {
  /** The providing bureau the assertion is for; becomes `aud`. */
  readonly provider: string;
  /** The consumer bureau. */
  readonly bureau: string;
  /** The consumer's client application. */
  readonly app: string;
  readonly user?: string;
  readonly purpose?: string;
  readonly caseId?: string;
  /** The agreements this request exercises at `provider`. */
  readonly agreements: readonly string[];
}

/** A verified assertion, as a providing bureau sees it. */
export interface ConsumerAssertion extends ConsumerAssertionInput {
  /** `iat` and `exp`, seconds since the epoch. */
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/** Signs consumer assertions with the gateway's own key. */
export interface ConsumerAssertionSigner {
  /** The key signing now (it changes on {@link reload}). */
  readonly kid: string;
  /**
   * The public keys, as served at `/.well-known/isthmus-gateway-jwks.json`:
   * the current one first, then each replaced one until every assertion it
   * signed has expired (its TTL plus the largest clock tolerance a verifier
   * may allow), read afresh on every access.
   */
  readonly jwks: JSONWebKeySet;
  readonly keyFile: string | undefined;
  /**
   * Reads the keys folder again (SIGHUP): an operator who added
   * `gateway-signing.<n>.json` (the next number) has every new assertion
   * signed with it from now on; the reused assertions of the old key are
   * dropped, the old key stays published for its window.
   */
  reload(signal?: AbortSignal): Promise<SigningKeyReload>;
  /**
   * Signs one assertion.
   *
   * @throws TypeError when a field is empty or malformed.
   */
  signConsumerAssertion(input: ConsumerAssertionInput): Promise<string>;
  /**
   * The assertion for `input`, reused while it has at least half its life
   * left: one ES256 signature costs about as much as a whole token
   * verification, and the same consumer app, user, purpose and case reading
   * from the same bureau under the same agreements gets the same statement.
   * The request id is therefore not in it; the gateway sends it beside the
   * assertion as `x-request-id`.
   *
   * @example
   * headers.set(CONSUMER_ASSERTION_HEADER, await signer.assertionFor({ provider: 'hrss', bureau, app, agreements: ['agr-42'] }));
   */
  assertionFor(input: ConsumerAssertionInput): Promise<string>;
}

/** Options of {@link openConsumerAssertionSigner}. */
export interface ConsumerAssertionSignerOptions {
  /** Folder of the key file; undefined keeps a fresh key in memory, which suits one process (tests), not replicas. */
  readonly keysDir: string | undefined;
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
  /** Default {@link DEFAULT_CONSUMER_ASSERTION_TTL_SECONDS}. */
  readonly ttlSeconds?: number;
  /** Default {@link DEFAULT_CONSUMER_ASSERTION_CACHE_SIZE}. */
  readonly cacheSize?: number;
  readonly signal?: AbortSignal;
}

/**
 * Opens the gateway's signing key (creating it on first use) and returns the
 * signer. Replicas behind one load balancer must share the key folder (a
 * mounted secret), or bureaus would see signatures from keys they never
 * fetched.
 *
 * @example
 * const signer = await openConsumerAssertionSigner({ keysDir: config.keysDir });
 */
export async function openConsumerAssertionSigner(options: ConsumerAssertionSignerOptions): Promise<ConsumerAssertionSigner> {
  const now = options.now ?? Date.now;
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_CONSUMER_ASSERTION_TTL_SECONDS;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > DEFAULT_CONSUMER_ASSERTION_MAX_AGE_SECONDS) {
    throw new TypeError(`ttlSeconds must be a whole number from 1 to ${DEFAULT_CONSUMER_ASSERTION_MAX_AGE_SECONDS}`);
  }
  const cacheSize = options.cacheSize ?? DEFAULT_CONSUMER_ASSERTION_CACHE_SIZE;
  if (!Number.isInteger(cacheSize) || cacheSize < 1) throw new TypeError('cacheSize must be a whole number ≥ 1');
  const keys = await openRotatingSigningKey({
    dir: options.keysDir,
    fileName: GATEWAY_SIGNING_KEY_FILE,
    purpose: 'Isthmus gateway: signs consumer assertions sent to bureaus',
    retiredPublishedMs: (ttlSeconds + MAX_CLOCK_TOLERANCE_SECONDS) * 1_000,
    now,
    ...(options.signal && { signal: options.signal }),
  });
  // Insertion order is age order: the first key is the one to evict.
  const signed = new Map<string, { readonly assertion: Promise<string>; readonly reuseUntilMs: number }>();

  const sign = (input: ConsumerAssertionInput): Promise<string> => {
    const text = (name: string, value: unknown, required: boolean): string | undefined => {
      if (value === undefined && !required) return undefined;
      if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
      return value;
    };
    const provider = text('provider', input.provider, true)!;
    const user = text('user', input.user, false);
    const purpose = text('purpose', input.purpose, false);
    const caseId = text('caseId', input.caseId, false);
    if (!Array.isArray(input.agreements) || !input.agreements.every((agreement) => typeof agreement === 'string' && agreement !== '')) {
      throw new TypeError('agreements must be a list of agreement ids');
    }
    const issuedAt = Math.floor(now() / 1_000);
    const key = keys.current();
    return new SignJWT({
      consumer_bureau: text('bureau', input.bureau, true),
      consumer_app: text('app', input.app, true),
      ...(user === undefined ? {} : { user }),
      ...(purpose === undefined ? {} : { purpose }),
      ...(caseId === undefined ? {} : { case_id: caseId }),
      agreements: [...input.agreements],
    })
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: CONSUMER_ASSERTION_TYPE })
      .setIssuer(GATEWAY_ISSUER)
      .setAudience(provider)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + ttlSeconds)
      .sign(key.privateKey);
  };

  return {
    get kid() {
      return keys.current().kid;
    },
    get jwks() {
      return Object.freeze({ keys: Object.freeze(keys.publicKeys()) }) as JSONWebKeySet;
    },
    get keyFile() {
      return keys.current().file;
    },
    async reload(signal) {
      const outcome = await keys.reload(signal);
      if (outcome.changed) signed.clear();
      return outcome;
    },
    signConsumerAssertion: (input) => {
      try {
        return sign(input);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    assertionFor(input) {
      const key = cacheKey(input);
      const cached = signed.get(key);
      if (cached !== undefined && now() < cached.reuseUntilMs) return cached.assertion;
      if (cached !== undefined) signed.delete(key);
      let assertion: Promise<string>;
      try {
        assertion = sign(input);
      } catch (error) {
        return Promise.reject(error);
      }
      // Reused while at least half its life is left, so a bureau never gets one about to expire.
      const entry = { assertion, reuseUntilMs: now() + (ttlSeconds * 1_000) / 2 };
      if (signed.size >= cacheSize) signed.delete(signed.keys().next().value!);
      signed.set(key, entry);
      assertion.catch(() => {
        if (signed.get(key) === entry) signed.delete(key);
      });
      return assertion;
    },
  };
}

/** Everything an assertion states, as one unambiguous map key (JSON, so no separator can be smuggled in through a claim). */
function cacheKey(input: ConsumerAssertionInput): string {
  return JSON.stringify([input.provider, input.bureau, input.app, input.user ?? null, input.purpose ?? null, input.caseId ?? null, input.agreements]);
}

/** Options of {@link createConsumerAssertionVerifier}: `jwksUrl` or `keys`, not both. */
export interface ConsumerAssertionVerifierOptions {
  /** The bureau this system is: assertions for another bureau are refused. */
  readonly bureau: string;
  /** The gateway's `/.well-known/isthmus-gateway-jwks.json`. */
  readonly jwksUrl?: string | URL;
  /** Or the gateway's public keys, given directly. */
  readonly keys?: readonly JWK[];
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
  /** Default {@link DEFAULT_CLOCK_TOLERANCE_SECONDS}. */
  readonly clockToleranceSeconds?: number;
  /** Bound on one JWKS fetch. Default {@link DEFAULT_JWKS_TIMEOUT_MS}. */
  readonly fetchTimeoutMs?: number;
  /** Default {@link DEFAULT_CONSUMER_ASSERTION_MAX_AGE_SECONDS}. */
  readonly maxAgeSeconds?: number;
}

/** Checks consumer assertions on a bureau's side. */
export interface ConsumerAssertionVerifier {
  /**
   * Verifies the `x-isthmus-consumer` header's value and returns what the gateway vouched for.
   *
   * @throws AuthError: `TOKEN_MISSING`, `TOKEN_EXPIRED`, `AUDIENCE_MISMATCH`, `SIGNATURE_INVALID`, `CLAIM_INVALID`, …
   */
  verify(assertion: string | null | undefined, signal?: AbortSignal): Promise<ConsumerAssertion>;
}

/**
 * For bureau systems: checks that a request came through Isthmus, and for whom.
 *
 * @example
 * const verifier = createConsumerAssertionVerifier({ bureau: 'hrss', jwksUrl: 'https://isthmus.city.example/.well-known/isthmus-gateway-jwks.json' });
 * const consumer = await verifier.verify(request.headers.get(CONSUMER_ASSERTION_HEADER));
 */
export function createConsumerAssertionVerifier(options: ConsumerAssertionVerifierOptions): ConsumerAssertionVerifier {
  const now = options.now ?? Date.now;
  const clockToleranceSeconds = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  const fetchTimeoutMs = options.fetchTimeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS;
  const maxAgeSeconds = options.maxAgeSeconds ?? DEFAULT_CONSUMER_ASSERTION_MAX_AGE_SECONDS;
  if (typeof options.bureau !== 'string' || options.bureau === '') throw new TypeError('bureau must be the id of this bureau');
  if ((options.jwksUrl === undefined) === (options.keys === undefined)) throw new TypeError('give jwksUrl or keys, one of them');
  if (!Number.isInteger(clockToleranceSeconds) || clockToleranceSeconds < 0 || clockToleranceSeconds > 300) throw new TypeError('clockToleranceSeconds must be a whole number from 0 to 300');
  if (!Number.isInteger(fetchTimeoutMs) || fetchTimeoutMs < 1 || fetchTimeoutMs > 60_000) throw new TypeError('fetchTimeoutMs must be a whole number from 1 to 60000');
  if (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 1) throw new TypeError('maxAgeSeconds must be a whole number ≥ 1');
  const jwksUrl = options.jwksUrl === undefined ? undefined : new URL(options.jwksUrl);
  const keySet = jwksUrl
    ? createRemoteJWKSet(jwksUrl, { timeoutDuration: fetchTimeoutMs, cooldownDuration: DEFAULT_JWKS_COOLDOWN_MS, cacheMaxAge: DEFAULT_JWKS_MAX_AGE_MS })
    : createLocalJWKSet({ keys: options.keys!.map((jwk) => ({ ...jwk })) });

  const verifyAssertion = async (assertion: string): Promise<ConsumerAssertion> => {
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(assertion);
    } catch (error) {
      throw new TokenMalformed('the consumer assertion is not a compact JWS', { cause: error });
    }
    const context: VerificationContext = {
      issuer: GATEWAY_ISSUER,
      subject: 'consumer assertion',
      audience: [options.bureau],
      algorithms: [SIGNING_ALGORITHM],
      clockToleranceSeconds,
      header,
      jwksUrl: jwksUrl?.href,
      fetchTimeoutMs,
    };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(assertion, keySet, {
        issuer: GATEWAY_ISSUER,
        audience: options.bureau,
        algorithms: [SIGNING_ALGORITHM],
        typ: CONSUMER_ASSERTION_TYPE,
        requiredClaims: ['exp', 'iat'],
        maxTokenAge: maxAgeSeconds,
        clockTolerance: clockToleranceSeconds,
        currentDate: new Date(now()),
      }));
    } catch (error) {
      throw toAuthError(error, context);
    }
    return toAssertion(payload, options.bureau);
  };

  return {
    async verify(assertion, signal) {
      signal?.throwIfAborted();
      if (assertion === undefined || assertion === null || assertion === '') {
        throw new TokenMissing(`no consumer assertion: the request did not come through Isthmus (header ${CONSUMER_ASSERTION_HEADER})`);
      }
      if (typeof assertion !== 'string' || assertion.length > MAX_TOKEN_LENGTH) throw new TokenMalformed('the consumer assertion is not a compact JWS');
      return abortable(verifyAssertion(assertion), signal);
    },
  };
}

function toAssertion(payload: JWTPayload, provider: string): ConsumerAssertion {
  const issuer = GATEWAY_ISSUER;
  const text = (claim: string, required: boolean): string | undefined => {
    const value = payload[claim];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || value === '') throw new ClaimInvalid(`claim "${claim}" of the consumer assertion must be a non-empty string`, claim, { issuer });
    return value;
  };
  const agreements = payload.agreements;
  if (!Array.isArray(agreements) || !agreements.every((agreement) => typeof agreement === 'string' && agreement !== '')) {
    throw new ClaimInvalid('claim "agreements" of the consumer assertion must be a list of agreement ids', 'agreements', { issuer });
  }
  const user = text('user', false);
  const purpose = text('purpose', false);
  const caseId = text('case_id', false);
  return Object.freeze({
    provider,
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

import type { JWK } from 'jose';
import { abortable } from '../gateway/auth/abortable.ts';
import { isAuthError, type AuthErrorCode } from '../gateway/auth/auth-error.ts';
import {
  createConsumerAssertionVerifier,
  DEFAULT_CONSUMER_ASSERTION_MAX_AGE_SECONDS,
  type ConsumerAssertion,
  type ConsumerAssertionVerifier,
} from '../gateway/auth/consumer-assertion.ts';

/**
 * A demo bureau's side of the consumer assertion: once it trusts the
 * gateway, every request must carry an `x-isthmus-consumer` assertion signed
 * by the gateway and addressed to this bureau, and the bureau remembers who
 * asked. This is what a real bureau system would do with
 * {@link createConsumerAssertionVerifier}.
 */

/** Where the gateway's public keys come from: its JWKS URL, or the keys themselves. */
export type GatewayTrustOptions =
  | { readonly jwksUrl: string | URL; readonly keys?: never }
  | { readonly keys: readonly JWK[]; readonly jwksUrl?: never };

/** A request id is remembered only if it is short and plain. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Verified consumers a bureau keeps for {@link GatewayTrust.recentConsumers}. */
export const DEFAULT_RECENT_CONSUMERS = 100;
/** Verified assertions kept, by header value, so the gateway's repeated calls within one request cost one signature check. */
export const DEFAULT_VERIFIED_ASSERTION_CACHE_SIZE = 1_000;

/** Why a request was refused, for the bureau to answer in its own error shape. */
export interface GatewayRejection {
  /** 401 when the assertion is missing or bad; 503 when the gateway's keys could not be fetched (not the caller's fault). */
  readonly status: 401 | 503;
  readonly code: 'UNAUTHENTICATED' | 'UNAVAILABLE';
  /** The verifier's code, e.g. `TOKEN_MISSING`, `AUDIENCE_MISMATCH`, `SIGNATURE_INVALID`. */
  readonly reason: AuthErrorCode;
  /** For the gateway's developers; never quotes the assertion. */
  readonly message: string;
}

/** A verified consumer as the bureau remembers it: what the gateway vouched for, and the request id it sent beside the assertion. */
export interface SeenConsumer extends ConsumerAssertion {
  /** The gateway's `x-request-id`, unsigned: it names the request, it does not authorise it. */
  readonly requestId?: string;
}

/** The outcome of {@link GatewayTrust.check}. */
export type GatewayCheck =
  | { readonly ok: true; readonly consumer: SeenConsumer | undefined }
  | { readonly ok: false; readonly rejection: GatewayRejection };

/** Options of {@link createGatewayTrust}. */
export interface GatewayTrustSettings {
  /** The bureau's id as the catalogue names it; assertions must be addressed to it (`aud`). */
  readonly bureau: string;
  /** Default {@link DEFAULT_RECENT_CONSUMERS}. */
  readonly recentConsumers?: number;
  /** Default {@link DEFAULT_VERIFIED_ASSERTION_CACHE_SIZE}. */
  readonly cacheSize?: number;
  /** Milliseconds since the epoch, for the verifier and the cache. Default `Date.now`. */
  readonly now?: () => number;
}

/** One bureau's trust in the gateway, switched on and off at run time. */
export interface GatewayTrust {
  readonly bureau: string;
  /** Whether requests are checked at all; untrusted bureaus serve everyone, as benchmarks and the `direct` baseline need. */
  readonly trusting: boolean;
  /**
   * Trusts the gateway with these keys from now on, or nobody's assertion
   * (`undefined`: back to serving every request unchecked). Options are
   * checked here, and a change forgets the assertions verified so far.
   *
   * @throws TypeError on bad options.
   */
  trust(options: GatewayTrustOptions | undefined): void;
  /**
   * Checks one request's `x-isthmus-consumer` header value. Without trust, every
   * request passes with no consumer. A verified consumer is remembered, with
   * the request's `x-request-id` when it has a sane one.
   */
  check(assertion: string | undefined, request?: { readonly requestId?: string | undefined; readonly signal?: AbortSignal }): Promise<GatewayCheck>;
  /** The last verified consumers, oldest first; in memory only, never logged. */
  recentConsumers(): readonly SeenConsumer[];
  /** Signature checks made so far (a repeated assertion is checked once): how many different assertions the gateway sent. */
  verifications(): number;
}

interface Verified {
  readonly consumer: Promise<ConsumerAssertion>;
  /** Until when the cached verdict holds; `Infinity` while the verification is in flight. */
  validUntilMs: number;
}

/**
 * Creates a bureau's {@link GatewayTrust}, untrusting until
 * {@link GatewayTrust.trust} is called.
 *
 * A verified assertion is cached by its header value until its `exp` (and
 * never past the verifier's maximum age), so the hot path is one map lookup;
 * concurrent calls with the same assertion share one verification.
 *
 * @example
 * const trust = createGatewayTrust({ bureau: 'public-security' });
 * trust.trust({ jwksUrl: `${gatewayUrl}/.well-known/isthmus-gateway-jwks.json` });
 * const check = await trust.check(request.headers['x-isthmus-consumer'], { requestId: request.headers['x-request-id'] });
 */
export function createGatewayTrust(settings: GatewayTrustSettings): GatewayTrust {
  const { bureau } = settings;
  const now = settings.now ?? Date.now;
  const recentLimit = settings.recentConsumers ?? DEFAULT_RECENT_CONSUMERS;
  const cacheSize = settings.cacheSize ?? DEFAULT_VERIFIED_ASSERTION_CACHE_SIZE;
  if (typeof bureau !== 'string' || bureau === '') throw new TypeError('bureau must be the id of this bureau');
  if (!Number.isInteger(recentLimit) || recentLimit < 1) throw new TypeError('recentConsumers must be a whole number ≥ 1');
  if (!Number.isInteger(cacheSize) || cacheSize < 1) throw new TypeError('cacheSize must be a whole number ≥ 1');

  let verifier: ConsumerAssertionVerifier | undefined;
  // Insertion order is age order: the first key is the one to evict.
  const verified = new Map<string, Verified>();
  // A ring buffer, so remembering a consumer costs no allocation beyond the slot.
  const recent: SeenConsumer[] = [];
  let verificationCount = 0;
  let nextSlot = 0;

  const remember = (consumer: SeenConsumer): void => {
    if (recent.length < recentLimit) recent.push(consumer);
    else recent[nextSlot] = consumer;
    nextSlot = (nextSlot + 1) % recentLimit;
  };

  const verify = (current: ConsumerAssertionVerifier, assertion: string, signal: AbortSignal | undefined): Promise<ConsumerAssertion> => {
    const cached = verified.get(assertion);
    if (cached !== undefined) {
      if (now() < cached.validUntilMs) return cached.consumer;
      verified.delete(assertion);
    }
    // Not abortable by one caller: other requests may be waiting on the same
    // verification. The verifier bounds its own key fetch.
    verificationCount += 1;
    const consumer = current.verify(assertion);
    const entry: Verified = { consumer, validUntilMs: Number.POSITIVE_INFINITY };
    if (verified.size >= cacheSize) verified.delete(verified.keys().next().value!);
    verified.set(assertion, entry);
    consumer.then(
      (claims) => {
        entry.validUntilMs = Math.min(claims.expiresAt, claims.issuedAt + DEFAULT_CONSUMER_ASSERTION_MAX_AGE_SECONDS) * 1_000;
      },
      () => {
        if (verified.get(assertion) === entry) verified.delete(assertion);
      },
    );
    return abortable(consumer, signal);
  };

  return {
    bureau,
    get trusting() {
      return verifier !== undefined;
    },
    trust(options) {
      const next = options === undefined ? undefined : createConsumerAssertionVerifier({ bureau, now, ...options });
      verified.clear();
      verifier = next;
    },
    async check(assertion, request) {
      const current = verifier;
      if (current === undefined) return { ok: true, consumer: undefined };
      try {
        const verifiedConsumer = await verify(current, assertion ?? '', request?.signal);
        const requestId = request?.requestId;
        const consumer: SeenConsumer = requestId !== undefined && SAFE_REQUEST_ID.test(requestId) ? Object.freeze({ ...verifiedConsumer, requestId }) : verifiedConsumer;
        remember(consumer);
        return { ok: true, consumer };
      } catch (error) {
        if (!isAuthError(error)) throw error;
        const unavailable = error.code === 'KEYS_UNAVAILABLE';
        return {
          ok: false,
          rejection: {
            status: unavailable ? 503 : 401,
            code: unavailable ? 'UNAVAILABLE' : 'UNAUTHENTICATED',
            reason: error.code,
            message: error.message,
          },
        };
      }
    },
    verifications: () => verificationCount,
    recentConsumers() {
      // Until the buffer is full, nextSlot is its end; after, it is the oldest slot.
      return Object.freeze(recent.length < recentLimit ? [...recent] : [...recent.slice(nextSlot), ...recent.slice(0, nextSlot)]);
    },
  };
}

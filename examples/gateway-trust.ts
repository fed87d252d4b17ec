import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JWK } from 'jose';
import {
  checkConsumer,
  createBureauVerifier,
  withIsthmusConsumer,
  type BureauVerifier,
  type ConsumerRejection,
  type IsthmusConsumer,
  type VerifierErrorCode,
} from '../packages/isthmus-bureau-verifier/src/index.ts';

/**
 * A demo bureau's side of the consumer assertion, built on the bureau
 * verifier package (`packages/isthmus-bureau-verifier`), as a real bureau's
 * system would use it: once it trusts the gateway, every request must carry
 * an `x-isthmus-consumer` assertion signed by the gateway and addressed to
 * this bureau. What the demo adds is trust switched on and off at run time
 * (benchmarks and the `direct` baseline serve everyone) and a memory of who
 * asked, for tests and the demo.
 */

/** Where the gateway's public keys come from: its JWKS URL, or the keys themselves. */
export type GatewayTrustOptions =
  | { readonly jwksUrl: string | URL; readonly keys?: never }
  | { readonly keys: readonly JWK[]; readonly jwksUrl?: never };

/** Verified consumers a bureau keeps for {@link GatewayTrust.recentConsumers}. */
export const DEFAULT_RECENT_CONSUMERS = 100;
/** Verified assertions kept, by header value, so the gateway's repeated calls within one request cost one signature check. */
export const DEFAULT_VERIFIED_ASSERTION_CACHE_SIZE = 1_000;

/** The demo bureaus' error code for each status of a refusal. */
const CODE_OF_STATUS = { 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 503: 'UNAVAILABLE' } as const;

/** Why a request was refused, for the bureau to answer in its own error shape. */
export interface GatewayRejection {
  /** 401 when the assertion is missing or bad; 403 when it is genuine but not for this bureau; 503 when the gateway's keys could not be fetched (not the caller's fault). */
  readonly status: 401 | 403 | 503;
  readonly code: (typeof CODE_OF_STATUS)[keyof typeof CODE_OF_STATUS];
  /** The verifier's code, e.g. `ASSERTION_MISSING`, `ASSERTION_FOR_ANOTHER_BUREAU`, `SIGNATURE_INVALID`. */
  readonly reason: VerifierErrorCode;
  /** For the gateway's developers; never quotes the assertion. */
  readonly message: string;
}

/** A verified consumer as the bureau remembers it: what the gateway vouched for, and the request id it sent beside the assertion. */
export type SeenConsumer = IsthmusConsumer;

/** The outcome of {@link GatewayTrust.check}. */
export type GatewayCheck =
  | { readonly ok: true; readonly consumer: SeenConsumer | undefined }
  | { readonly ok: false; readonly rejection: GatewayRejection };

/** A node:http request listener. */
export type RequestListener = (request: IncomingMessage, response: ServerResponse) => unknown;

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
  /**
   * `listener` behind the package's node:http middleware while the bureau
   * trusts the gateway (a refusal answered with `rejectionBody`), and
   * `listener` itself while it does not.
   */
  guard(listener: RequestListener, rejectionBody: (rejection: GatewayRejection) => unknown): RequestListener;
  /** The last verified consumers, oldest first; in memory only, never logged. */
  recentConsumers(): readonly SeenConsumer[];
  /** Signature checks made so far (a repeated assertion is checked once): how many different assertions the gateway sent. */
  verifications(): number;
}

/** The package's refusal in the demo bureaus' terms. */
function toGatewayRejection(rejection: ConsumerRejection): GatewayRejection {
  return { status: rejection.status, code: CODE_OF_STATUS[rejection.status], reason: rejection.code, message: rejection.message };
}

/**
 * Creates a bureau's {@link GatewayTrust}, untrusting until
 * {@link GatewayTrust.trust} is called.
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

  let verifier: BureauVerifier | undefined;
  // Checks made by verifiers that trust() replaced, so the count runs on across a change of keys.
  let retiredVerifications = 0;
  // A ring buffer, so remembering a consumer costs no allocation beyond the slot.
  const recent: SeenConsumer[] = [];
  let nextSlot = 0;

  const remember = (consumer: SeenConsumer): void => {
    if (recent.length < recentLimit) recent.push(consumer);
    else recent[nextSlot] = consumer;
    nextSlot = (nextSlot + 1) % recentLimit;
  };

  return {
    bureau,
    get trusting() {
      return verifier !== undefined;
    },
    trust(options) {
      // A new verifier is a new cache: what the old keys verified is forgotten.
      const next = options === undefined ? undefined : createBureauVerifier({ bureau, now, cacheSize, ...options });
      retiredVerifications += verifier?.verifications() ?? 0;
      verifier = next;
    },
    async check(assertion, request) {
      const current = verifier;
      if (current === undefined) return { ok: true, consumer: undefined };
      const check = await checkConsumer(current, { assertion, requestId: request?.requestId }, request?.signal);
      if (!check.ok) return { ok: false, rejection: toGatewayRejection(check.rejection) };
      remember(check.consumer);
      return check;
    },
    guard(listener, rejectionBody) {
      const remembering = (request: IncomingMessage, response: ServerResponse, consumer: IsthmusConsumer): unknown => {
        remember(consumer);
        return listener(request, response);
      };
      const options = { rejectionBody: (rejection: ConsumerRejection) => rejectionBody(toGatewayRejection(rejection)) };
      // Rebuilt only when trust changes, so a request costs no allocation for the wrapper.
      let wrapped: { readonly verifier: BureauVerifier; readonly listener: RequestListener } | undefined;
      return (request, response) => {
        const current = verifier;
        if (current === undefined) return listener(request, response);
        if (wrapped?.verifier !== current) wrapped = { verifier: current, listener: withIsthmusConsumer(current, remembering, options) };
        return wrapped.listener(request, response);
      };
    },
    verifications: () => retiredVerifications + (verifier?.verifications() ?? 0),
    recentConsumers() {
      // Until the buffer is full, nextSlot is its end; after, it is the oldest slot.
      return Object.freeze(recent.length < recentLimit ? [...recent] : [...recent.slice(nextSlot), ...recent.slice(0, nextSlot)]);
    },
  };
}

import type { JSONWebKeySet } from 'jose';
import type { GatewayConfig } from '../config/config.ts';
import { openConsumerAssertionSigner, type ConsumerAssertionSigner } from './consumer-assertion.ts';
import { openDevIssuer, type DevIssuer } from './dev-issuer.ts';
import { createTokenVerifier, type KeySetStatus, type TokenVerifier, type TokenVerifierOptions } from './verify-token.ts';

/** What `/readyz` shows of authentication: each remote issuer's keys, and whether they can all work. */
export interface AuthReadiness {
  /** False when an issuer's configuration cannot work (discovery names another issuer, no key set at the URL) and no keys are in hand. */
  readonly ready: boolean;
  readonly issuers: readonly KeySetStatus[];
}

/** Everything authentication needs at run time, built once at start-up. */
export interface GatewayAuth {
  /** Trusts the configured issuers, plus the dev issuer when it is on. */
  readonly verifier: TokenVerifier;
  /** Present only when `ISTHMUS_DEV_ISSUER` is on. */
  readonly devIssuer: DevIssuer | undefined;
  /** Signs `x-isthmus-consumer` for calls to providing bureaus. */
  readonly consumerAssertions: ConsumerAssertionSigner;
  /** The `AppDeps` that serve the public keys: `{ ...auth.wellKnown }`. */
  readonly wellKnown: { readonly devIssuerJwks?: JSONWebKeySet; readonly gatewayJwks: () => JSONWebKeySet };
  /**
   * Readiness of the issuers' keys, for `/readyz`. An issuer whose provider is
   * only out of reach keeps the gateway ready (its tokens get a retryable
   * 503; the other issuers' work); one that can never work does not.
   */
  readiness(): AuthReadiness;
  /** Stops the background key refreshes. */
  close(): void;
}

/** Options of {@link createGatewayAuth}. */
export interface GatewayAuthOptions {
  readonly signal?: AbortSignal;
  /** Milliseconds since the epoch, for every clock in here. Default `Date.now`. */
  readonly now?: () => number;
  /** Verifier tuning (JWKS timeouts, cache size); issuers come from the config. */
  readonly verifier?: Omit<TokenVerifierOptions, 'issuers' | 'now'>;
  /** Fetch the issuers' keys now and refresh them in the background (default true); false fetches when tokens need them. */
  readonly refreshKeys?: boolean;
}

/**
 * Opens the signing keys (creating them on first use under `keysDir`) and
 * builds the verifier, which starts fetching the issuers' keys (discovering
 * them where an issuer is configured by its URL alone) without holding up
 * the start: a provider that is down must not stop the gateway. The
 * composition root calls it once:
 *
 * @example
 * const auth = await createGatewayAuth(config);
 * const app = createApp({ ...appDeps, ...auth.wellKnown });
 * const principal = await authenticateRequest(request.headers, auth.verifier, request.signal);
 */
export async function createGatewayAuth(config: Pick<GatewayConfig, 'issuers' | 'devIssuer' | 'keysDir'>, options: GatewayAuthOptions = {}): Promise<GatewayAuth> {
  const { signal, now } = options;
  const devIssuer = config.devIssuer ? await openDevIssuer({ keysDir: config.keysDir, now, signal }) : undefined;
  const consumerAssertions = await openConsumerAssertionSigner({ keysDir: config.keysDir, now, signal });
  const verifier = createTokenVerifier({
    ...options.verifier,
    issuers: devIssuer ? [...config.issuers, devIssuer.issuerConfig] : config.issuers,
    now,
  });
  if (options.refreshKeys !== false) verifier.start();
  return {
    verifier,
    devIssuer,
    consumerAssertions,
    // Asked per request: the consumer-assertion keys rotate (a reload), and a replaced key leaves the set once its assertions expired.
    wellKnown: devIssuer ? { devIssuerJwks: devIssuer.jwks, gatewayJwks: () => consumerAssertions.jwks } : { gatewayJwks: () => consumerAssertions.jwks },
    readiness() {
      const issuers = verifier.keySets();
      return { ready: issuers.every((issuer) => issuer.state !== 'misconfigured'), issuers };
    },
    close: () => verifier.close(),
  };
}

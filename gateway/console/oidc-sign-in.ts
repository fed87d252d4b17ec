import * as oauth from 'oauth4webapi';
import type { ConsoleOidcConfig } from '../config/config.ts';
import { OidcSignInError } from './oidc-sign-in-error.ts';

/** Bound on each call to the provider (discovery, token endpoint). */
export const DEFAULT_OIDC_TIMEOUT_MS = 5_000;
/** A sign-in left at the provider's login page longer than this must start again (its state and PKCE verifier are forgotten). */
export const DEFAULT_OIDC_PENDING_TTL_MS = 10 * 60 * 1_000;
/** Sign-ins under way at once; past it the oldest is forgotten, so strangers starting sign-ins cannot fill memory. */
export const DEFAULT_OIDC_MAX_PENDING = 10_000;
/** Discovery is cached this long: a provider that rotates endpoints is seen within the hour, a busy console asks once. */
const DISCOVERY_TTL_MS = 60 * 60 * 1_000;

/** A sign-in the console started: what its callback must match. */
interface PendingSignIn {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  /** The console page to go back to afterwards, already checked by the caller. */
  readonly next: string | undefined;
  readonly startedAt: number;
}

/** A completed code exchange: the ID token, for the gateway's own verification to turn into a principal. */
export interface OidcSignInResult {
  readonly idToken: string;
  readonly next: string | undefined;
}

/** Options of {@link createOidcSignIn}; each bound has a named default. */
export interface OidcSignInOptions {
  readonly config: ConsoleOidcConfig;
  readonly timeoutMs?: number;
  readonly pendingTtlMs?: number;
  readonly maxPending?: number;
  /** Milliseconds since the epoch; tests move it. */
  readonly now?: () => number;
}

/** The console's side of the OpenID Connect authorization code flow with PKCE (S256), through oauth4webapi. */
export interface OidcSignIn {
  /** Starts a sign-in: a fresh state, nonce and PKCE verifier kept here under `id` (for a cookie), and the provider's authorization URL. */
  start(next: string | undefined, signal: AbortSignal): Promise<{ readonly id: string; readonly url: string }>;
  /**
   * Completes the sign-in `id` names with the provider's callback: checks the
   * state, exchanges the code with the PKCE verifier, checks the ID token's
   * issuer, audience, nonce and lifetime. The sign-in is forgotten first, so
   * a replayed callback finds nothing. Throws {@link OidcSignInError}.
   */
  finish(id: string | undefined, callback: URL, signal: AbortSignal): Promise<OidcSignInResult>;
  /** Where to send the browser to end the provider's session too (RP-initiated logout), or undefined when it offers no end_session_endpoint. */
  endSessionUrl(postLogoutRedirectUri: string, signal: AbortSignal): Promise<string | undefined>;
}

/**
 * The console's OIDC client. Nothing is fetched until the first sign-in
 * (a provider that is down must not stop the gateway); discovery is then
 * cached. Plain HTTP is allowed only for a loopback issuer (tests, a
 * provider on the same host).
 *
 * @example
 * const oidc = createOidcSignIn({ config: config.consoleOidc });
 * const { id, url } = await oidc.start('/console/inbox', AbortSignal.timeout(5_000));
 */
export function createOidcSignIn(options: OidcSignInOptions): OidcSignIn {
  const { config } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_OIDC_TIMEOUT_MS;
  const pendingTtlMs = options.pendingTtlMs ?? DEFAULT_OIDC_PENDING_TTL_MS;
  const maxPending = options.maxPending ?? DEFAULT_OIDC_MAX_PENDING;
  const now = options.now ?? Date.now;
  const issuer = new URL(config.issuer);
  const insecure = issuer.protocol === 'http:' && (issuer.hostname === 'localhost' || issuer.hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(issuer.hostname));
  const client: oauth.Client = { client_id: config.clientId };
  const clientAuth = config.clientSecret === undefined ? oauth.None() : oauth.ClientSecretBasic(config.clientSecret);
  // Map order is insertion order: the first entry is the oldest sign-in.
  const pending = new Map<string, PendingSignIn>();
  let discovered: { readonly as: oauth.AuthorizationServer; readonly at: number } | undefined;

  const request = (signal: AbortSignal) => ({ signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]), [oauth.allowInsecureRequests]: insecure });
  const unavailable = (what: string, cause: unknown) => new OidcSignInError('PROVIDER_UNAVAILABLE', `the identity provider's ${what} cannot be reached`, { cause });

  async function server(signal: AbortSignal): Promise<oauth.AuthorizationServer> {
    if (discovered && now() - discovered.at < DISCOVERY_TTL_MS) return discovered.as;
    try {
      const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...request(signal), algorithm: 'oidc' }));
      discovered = { as, at: now() };
      return as;
    } catch (error) {
      throw unavailable('discovery document', error);
    }
  }

  return {
    async start(next, signal) {
      const as = await server(signal);
      if (as.authorization_endpoint === undefined || as.token_endpoint === undefined) {
        throw unavailable('authorization or token endpoint', new Error('the discovery document names no authorization_endpoint or token_endpoint'));
      }
      const at = now();
      for (const [id, sign] of pending) if (at - sign.startedAt >= pendingTtlMs) pending.delete(id);
      while (pending.size >= maxPending) pending.delete(pending.keys().next().value!);
      const sign: PendingSignIn = { state: oauth.generateRandomState(), nonce: oauth.generateRandomNonce(), codeVerifier: oauth.generateRandomCodeVerifier(), next, startedAt: at };
      const id = oauth.generateRandomState();
      pending.set(id, sign);
      const url = new URL(as.authorization_endpoint);
      url.searchParams.set('client_id', config.clientId);
      url.searchParams.set('redirect_uri', config.redirectUri);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('scope', config.scope);
      url.searchParams.set('state', sign.state);
      url.searchParams.set('nonce', sign.nonce);
      url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(sign.codeVerifier));
      url.searchParams.set('code_challenge_method', 'S256');
      return { id, url: url.href };
    },

    async finish(id, callback, signal) {
      const sign = id === undefined ? undefined : pending.get(id);
      // Forgotten before anything else: whatever happens next, this callback cannot be used twice.
      if (id !== undefined) pending.delete(id);
      if (!sign || now() - sign.startedAt >= pendingTtlMs) throw new OidcSignInError('STATE_MISMATCH', 'the callback names no sign-in under way here');
      const as = await server(signal);
      let parameters: URLSearchParams;
      try {
        parameters = oauth.validateAuthResponse(as, client, callback, sign.state);
      } catch (error) {
        if (error instanceof oauth.AuthorizationResponseError) throw new OidcSignInError('PROVIDER_REFUSED', 'the identity provider refused the authorization request', { cause: error, providerError: error.error });
        throw new OidcSignInError('STATE_MISMATCH', "the callback's state or issuer is not the sign-in's", { cause: error });
      }
      let response: Response;
      try {
        response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, parameters, config.redirectUri, sign.codeVerifier, request(signal));
      } catch (error) {
        throw unavailable('token endpoint', error);
      }
      let tokens: oauth.TokenEndpointResponse;
      try {
        tokens = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: sign.nonce, requireIdToken: true });
      } catch (error) {
        if (error instanceof oauth.ResponseBodyError) throw new OidcSignInError('CODE_REJECTED', 'the token endpoint refused the authorization code', { cause: error, providerError: error.error });
        throw new OidcSignInError('ID_TOKEN_INVALID', 'the token response or its ID token is not for this sign-in', { cause: error });
      }
      if (typeof tokens.id_token !== 'string') throw new OidcSignInError('ID_TOKEN_INVALID', 'the token response has no ID token');
      return { idToken: tokens.id_token, next: sign.next };
    },

    async endSessionUrl(postLogoutRedirectUri, signal) {
      let as: oauth.AuthorizationServer;
      try {
        as = await server(signal);
      } catch {
        // Signing out of the console must not wait on the provider: the console's session is already over.
        return undefined;
      }
      if (as.end_session_endpoint === undefined) return undefined;
      const url = new URL(as.end_session_endpoint);
      url.searchParams.set('client_id', config.clientId);
      url.searchParams.set('post_logout_redirect_uri', postLogoutRedirectUri);
      return url.href;
    },
  };
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider from 'oidc-provider';

/** The audience (resource server) the gateway accepts, and one it does not. */
export const GATEWAY_AUDIENCE = 'isthmus-gateway';
export const GATEWAY_RESOURCE = 'urn:isthmus:gateway';
export const OTHER_RESOURCE = 'urn:city:other-api';
/** A machine client of the city: client credentials, as a bureau's back end uses them. */
export const CLIENT_ID = 'licensing-portal';
export const CLIENT_SECRET = 'client-secret-for-tests-only-0123456789';

/** A real OpenID provider (oidc-provider) on 127.0.0.1, whose signing keys a test can rotate. */
export interface OidcTestProvider {
  /** Its issuer identifier, `http://127.0.0.1:<port>`. */
  readonly issuer: string;
  /** The kid it signs with now. */
  readonly signingKid: string;
  /** Requests for its key set (`/jwks`) and its discovery document so far. */
  readonly fetches: { readonly jwks: number; readonly discovery: number };
  /** A client-credentials access token (a JWT) for `resource`, with the claims the gateway maps. */
  token(options?: { readonly resource?: string; readonly ttlSeconds?: number }): Promise<string>;
  /** Starts signing with a new key, published beside the current one (what an identity provider does when it rotates). */
  rotate(): Promise<string>;
  close(): Promise<void>;
}

interface SigningKey {
  readonly kid: string;
  readonly jwk: JWK;
}

async function newKey(index: number): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `rsa-${index}-${Math.random().toString(36).slice(2, 8)}`;
  return { kid, jwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' } };
}

/**
 * Starts oidc-provider with the client-credentials grant and JWT access
 * tokens (resource indicators, RFC 8707), on a free loopback port.
 * `advertisedIssuer` makes it claim another issuer than the URL it is
 * reached at (the mismatch discovery must refuse).
 */
export async function startOidcTestProvider(options: { readonly advertisedIssuer?: (url: string) => string } = {}): Promise<OidcTestProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = options.advertisedIssuer?.(url) ?? url;
  let keys: SigningKey[] = [await newKey(1)];
  let ttlSeconds = 300;
  const fetches = { jwks: 0, discovery: 0 };

  const build = (): Provider =>
    new Provider(issuer, {
      clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, grant_types: ['client_credentials'], response_types: [], redirect_uris: [] }],
      // The first key signs; the others stay published so that tokens they signed still verify.
      jwks: { keys: keys.map((key) => key.jwk) },
      scopes: ['hrss.social-insurance'],
      features: {
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => GATEWAY_RESOURCE,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx: unknown, resource: string) => ({
            scope: 'hrss.social-insurance',
            audience: resource === GATEWAY_RESOURCE ? GATEWAY_AUDIENCE : 'other-api',
            accessTokenFormat: 'jwt',
            accessTokenTTL: ttlSeconds,
            jwt: { sign: { alg: 'RS256' } },
          }),
        },
      },
      // What a city's provider adds for the gateway: the bureau the client speaks for, and its roles.
      extraTokenClaims: () => ({ bureau: 'market-supervision', roles: ['developer'] }),
    });
  let provider = build();
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (request.url?.startsWith('/jwks')) fetches.jwks += 1;
    if (request.url?.startsWith('/.well-known/openid-configuration')) fetches.discovery += 1;
    provider.callback()(request, response);
  });

  return {
    issuer,
    get signingKid() {
      return keys[0]!.kid;
    },
    fetches,
    async token(request = {}) {
      ttlSeconds = request.ttlSeconds ?? 300;
      const response = await fetch(`${url}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'hrss.social-insurance', resource: request.resource ?? GATEWAY_RESOURCE }),
      });
      const body = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
      if (!body.access_token) throw new Error(`the provider refused a client-credentials token: ${body.error} ${body.error_description}`);
      return body.access_token;
    },
    async rotate() {
      keys = [await newKey(keys.length + 1), keys[0]!];
      provider = build();
      return keys[0]!.kid;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

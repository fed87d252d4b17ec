import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuthError } from '../gateway/auth/auth-error.ts';
import { parseIssuers, type IssuerConfig } from '../gateway/auth/issuer-config.ts';
import { createTokenVerifier, type TokenVerifier, type TokenVerifierOptions } from '../gateway/auth/verify-token.ts';
import { CLIENT_ID, GATEWAY_AUDIENCE, OTHER_RESOURCE, startOidcTestProvider, type OidcTestProvider } from './support/oidc-test-provider.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';
import { waitFor } from './support/wait-for.ts';

/**
 * Issuers as a city's identity provider presents them: a real OpenID
 * provider (oidc-provider, started here on 127.0.0.1) issuing
 * client-credentials access tokens as JWTs. The gateway finds its keys
 * through discovery, follows its key rotations without calling a good token
 * forged, applies each issuer's clock tolerance, and reports a
 * configuration that can never work at /readyz instead of as an outage.
 */

const opened: { close(): unknown }[] = [];
afterEach(async () => {
  for (const item of opened.splice(0)) await item.close();
});

async function provider(options?: Parameters<typeof startOidcTestProvider>[0]): Promise<OidcTestProvider> {
  const started = await startOidcTestProvider(options);
  opened.push(started);
  return started;
}

/** An issuer as ISTHMUS_ISSUERS would list it, checked as the gateway checks it. */
function issuerFrom(entry: Record<string, unknown>): IssuerConfig {
  const { issuers, problems } = parseIssuers([{ audience: GATEWAY_AUDIENCE, algorithms: ['RS256'], claims: { app: 'client_id' }, ...entry }], 'ISTHMUS_ISSUERS');
  expect(problems).toEqual([]);
  return issuers[0]!;
}

function verifierFor(issuer: IssuerConfig, options: Partial<TokenVerifierOptions> = {}): TokenVerifier {
  const verifier = createTokenVerifier({ issuers: [issuer], ...options });
  opened.push(verifier);
  return verifier;
}

async function refusal(promise: Promise<unknown>, code: string): Promise<AuthError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, `expected a refusal with ${code}`).toBeDefined();
  expect((error as AuthError).code, (error as AuthError).message).toBe(code);
  return error as AuthError;
}

/** A token that names `issuer` but is signed with a key of nobody's (as a forger or a stale client would send). */
async function strangerToken(issuer: string, kid: string): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  return new SignJWT({ bureau: 'market-supervision', client_id: CLIENT_ID, sub: CLIENT_ID })
    .setProtectedHeader({ alg: 'RS256', kid })
    .setIssuer(issuer)
    .setAudience(GATEWAY_AUDIENCE)
    .setExpirationTime('5m')
    .sign(privateKey);
}

describe('an issuer configured by its URL alone (OpenID Connect discovery)', () => {
  it('finds the key set through /.well-known/openid-configuration and verifies client-credentials tokens', async () => {
    const idp = await provider();
    const verifier = verifierFor(issuerFrom({ issuer: idp.issuer }));
    const principal = await verifier.verify(await idp.token());
    expect(principal).toMatchObject({ issuer: idp.issuer, subject: CLIENT_ID, app: CLIENT_ID, bureau: 'market-supervision', roles: ['developer'], scopes: ['hrss.social-insurance'] });
    expect(idp.fetches).toEqual({ discovery: 1, jwks: 1 });
    expect(verifier.keySets()).toEqual([expect.objectContaining({ issuer: idp.issuer, state: 'ready', jwksUri: `${idp.issuer}/jwks`, keys: 1 })]);
  });

  it('refuses a token the provider issued for another audience', async () => {
    const idp = await provider();
    const verifier = verifierFor(issuerFrom({ issuer: idp.issuer }));
    const error = await refusal(verifier.verify(await idp.token({ resource: OTHER_RESOURCE })), 'AUDIENCE_MISMATCH');
    expect(error.message).toContain(GATEWAY_AUDIENCE);
  });

  it('accepts an expired token only within the issuer\'s clock tolerance: 30 s unless configured, none when set to 0', async () => {
    const idp = await provider();
    const token = await idp.token({ ttlSeconds: 60 });
    const exp = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp as number;
    const at = (secondsAfterExp: number) => () => (exp + secondsAfterExp) * 1_000;

    expect((await verifierFor(issuerFrom({ issuer: idp.issuer }), { now: at(29) }).verify(token)).app).toBe(CLIENT_ID);
    const late = await refusal(verifierFor(issuerFrom({ issuer: idp.issuer }), { now: at(31) }).verify(token), 'TOKEN_EXPIRED');
    expect(late.message).toContain('clock tolerance 30 s');
    const strict = await refusal(verifierFor(issuerFrom({ issuer: idp.issuer, clockToleranceSeconds: 0 }), { now: at(1) }).verify(token), 'TOKEN_EXPIRED');
    expect(strict.message).toContain('clock tolerance 0 s');
    expect((await verifierFor(issuerFrom({ issuer: idp.issuer, clockToleranceSeconds: 0 }), { now: at(-1) }).verify(token)).app).toBe(CLIENT_ID);
  });

  it('follows key rotations: a new kid is fetched at once, and inside the cooldown answered as retryable, never as forged', async () => {
    const idp = await provider();
    let clock = Date.now();
    const verifier = verifierFor(issuerFrom({ issuer: idp.issuer, jwksCooldownSeconds: 10 }), { now: () => clock });
    const first = await idp.token();
    await verifier.verify(first);
    expect(idp.fetches.jwks).toBe(1);

    // The provider rotates: the first token with the new kid makes the gateway fetch at once, and is accepted.
    await idp.rotate();
    const second = await idp.token();
    expect((await verifier.verify(second)).app).toBe(CLIENT_ID);
    expect(idp.fetches.jwks).toBe(2);
    // The token signed with the key rotated out is still good: the provider still publishes it.
    expect((await verifier.verify(first)).app).toBe(CLIENT_ID);

    // It rotates again 4 s later, inside the 10 s cooldown: the token is not called forged; the client is told when to retry.
    clock += 4_000;
    const kid = await idp.rotate();
    const third = await idp.token();
    const error = await refusal(verifier.verify(third), 'KEY_NOT_YET_KNOWN');
    expect(error.retryAfterSeconds).toBe(6);
    expect(error.message).toContain(kid);
    expect(idp.fetches.jwks).toBe(2);
    // When it retries as told, the key is fetched and the token accepted.
    clock += 6_000;
    expect((await verifier.verify(third)).app).toBe(CLIENT_ID);
    expect(idp.fetches.jwks).toBe(3);

    // A kid the provider never published is refused as a forgery once looked up.
    clock += 10_000;
    await refusal(verifier.verify(await strangerToken(idp.issuer, 'not-the-providers')), 'SIGNATURE_INVALID');
    expect(idp.fetches.jwks).toBe(4);
  });
});

describe('a configuration that can never work', () => {
  it('refuses a discovery document that names another issuer: not ready, with the reason, and no request reads it as an outage', async () => {
    const idp = await provider({ advertisedIssuer: (url) => url.replace('127.0.0.1', 'localhost') });
    const configured = idp.issuer.replace('localhost', '127.0.0.1');
    const verifier = verifierFor(issuerFrom({ issuer: configured }));
    verifier.start();
    const status = await waitFor(() => verifier.keySets().find((set) => set.state !== 'loading'), { what: 'the first discovery' });
    expect(status).toMatchObject({ issuer: configured, state: 'misconfigured', keys: 0 });
    expect(status.reason).toContain(`names "${idp.issuer}": it must name the configured issuer exactly`);
    expect(idp.fetches.jwks).toBe(0);
    const error = await refusal(verifier.verify(await strangerToken(configured, 'any')), 'ISSUER_MISCONFIGURED');
    expect(error.message).toContain('must name the configured issuer exactly');
  });

  it('refuses a key set URL that serves no key set: a JSON document that is not one, or a 404', async () => {
    const idp = await provider();
    for (const [path, reason] of [
      ['/.well-known/openid-configuration', 'is not a JWK set (no "keys" array)'],
      ['/no-such-keys', 'answered 404'],
    ] as const) {
      const verifier = verifierFor(issuerFrom({ issuer: idp.issuer, jwksUrl: `${idp.issuer}${path}` }));
      const error = await refusal(verifier.verify(await idp.token()), 'ISSUER_MISCONFIGURED');
      expect(error.message).toContain(reason);
      expect(verifier.keySets()[0]).toMatchObject({ state: 'misconfigured', reason: error.message });
    }
  });

  it('tells an unreachable provider from a misconfigured one: KEYS_UNAVAILABLE, retryable', async () => {
    const idp = await provider();
    const issuer = idp.issuer;
    await idp.close();
    const verifier = verifierFor(issuerFrom({ issuer }));
    const error = await refusal(verifier.verify(await strangerToken(issuer, 'any')), 'KEYS_UNAVAILABLE');
    expect(error.message).toContain('discovery document could not be fetched');
    expect(verifier.keySets()[0]).toMatchObject({ state: 'unreachable' });
  });
});

describe('the gateway with a real provider among its issuers', () => {
  let city: TestCity;
  let idp: OidcTestProvider;
  let wrong: OidcTestProvider;

  beforeAll(async () => {
    idp = await startOidcTestProvider();
    wrong = await startOidcTestProvider({ advertisedIssuer: (url) => url.replace('127.0.0.1', 'localhost') });
    const issuers = [
      { issuer: idp.issuer, audience: GATEWAY_AUDIENCE, algorithms: ['RS256'], claims: { app: 'client_id' }, jwksCooldownSeconds: 2 },
      { issuer: wrong.issuer.replace('localhost', '127.0.0.1'), audience: GATEWAY_AUDIENCE, algorithms: ['RS256'] },
    ];
    city = await startTestCity({ ISTHMUS_ISSUERS: JSON.stringify(issuers) });
  }, 120_000);

  afterAll(async () => {
    await city?.close();
    await idp?.close();
    await wrong?.close();
  });

  it('answers /readyz not ready while an issuer cannot work, naming it and why; the working issuer is ready', async () => {
    const body = await waitFor(
      async () => {
        const response = await fetch(`${city.gateway.url}/readyz`);
        const json = (await response.json()) as { status: string; issuers: { issuer: string; state: string; reason?: string }[] };
        return json.issuers.every((issuer) => issuer.state !== 'loading') ? { status: response.status, json } : undefined;
      },
      { what: 'both issuers resolved' },
    );
    expect(body.status).toBe(503);
    expect(body.json.status).toBe('not-ready');
    const byIssuer = new Map(body.json.issuers.map((issuer) => [issuer.issuer, issuer]));
    expect(byIssuer.get(idp.issuer)).toMatchObject({ state: 'ready', keys: 1 });
    expect(byIssuer.get(wrong.issuer.replace('localhost', '127.0.0.1'))).toMatchObject({ state: 'misconfigured' });
    expect(byIssuer.get(wrong.issuer.replace('localhost', '127.0.0.1'))!.reason).toContain('must name the configured issuer exactly');
    // Logged once for the operator (log lines may be up to a second late).
    await waitFor(() => city.logs.find((line) => String(line.msg).includes('must name the configured issuer exactly')), { what: 'the misconfiguration logged' });

    // A token naming that issuer: the gateway's fault, not an outage to retry, and not the caller's token.
    const reply = await city.graphql('{ __typename }', undefined, { authorization: `Bearer ${await strangerToken(wrong.issuer.replace('localhost', '127.0.0.1'), 'any')}` });
    expect(reply.status).toBe(500);
    expect(reply.headers.get('retry-after')).toBeNull();
    expect(reply.body.errors![0]!.extensions).toEqual({ code: 'INTERNAL', requestId: expect.any(String) });
    expect(reply.body.errors![0]!.message).not.toContain('discovery');
  });

  it('answers a token signed with a key rotated in during the cooldown with 503 and retry-after, and accepts it on the retry', async () => {
    const query = '{ __typename }';
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const accepted = await city.graphql(query, undefined, bearer(await idp.token()));
    expect(accepted.body.errors?.some((error) => error.extensions.code === 'UNAUTHENTICATED') ?? false, JSON.stringify(accepted.body)).toBe(false);

    // An unknown kid makes the gateway look at once (and start its 2 s cooldown): not the provider's, so a forgery.
    const forged = await city.graphql(query, undefined, bearer(await strangerToken(idp.issuer, 'forged')));
    expect(forged.status).toBe(401);
    expect(forged.body.errors![0]!.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'SIGNATURE_INVALID' });

    await idp.rotate();
    const token = await idp.token();
    const early = await city.graphql(query, undefined, bearer(token));
    expect(early.status).toBe(503);
    expect(early.body.errors![0]!.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'KEY_NOT_YET_KNOWN' });
    const retryAfter = Number(early.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2);

    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1_000));
    const retried = await city.graphql(query, undefined, bearer(token));
    expect(retried.body.errors?.some((error) => error.extensions.code === 'UNAUTHENTICATED') ?? false, JSON.stringify(retried.body)).toBe(false);
  });
});

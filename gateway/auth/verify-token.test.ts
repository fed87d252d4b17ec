import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { startJwksServer, type JwksServer } from '../../test/support/jwks-server.ts';
import { settleWithin, waitFor } from '../../test/support/wait-for.ts';
import { AuthError, isAuthError, type AuthErrorCode } from './auth-error.ts';
import { authenticateRequest, readBearerToken } from './authenticate-request.ts';
import { defineIssuer, type IssuerConfig } from './issuer-config.ts';
import { createTokenVerifier, MAX_TOKEN_LENGTH, type TokenVerifierOptions } from './verify-token.ts';

const ISSUER = 'https://sso.market.test/realms/market';
const AUDIENCE = 'isthmus-gateway';
const T0 = Date.UTC(2026, 2, 1, 10, 0, 0);
const T0_SECONDS = T0 / 1_000;

interface TestKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly jwk: JWK;
}

async function makeKey(alg: 'RS256' | 'ES256', kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { kid, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

const BASE_CLAIMS = {
  sub: 'user-1',
  bureau: 'market-supervision',
  azp: 'licensing-portal',
  preferred_username: 'li.wei',
  roles: ['developer'],
  scope: 'hrss.social-insurance psb.household',
};

interface SignOptions {
  readonly key?: TestKey;
  readonly kid?: string | null;
  readonly alg?: string;
  readonly issuer?: string;
  readonly audience?: string | string[];
  /** Seconds after T0; null leaves `exp` out. */
  readonly expiresIn?: number | null;
  readonly notBefore?: number;
}

let rsa1: TestKey;
let rsa2: TestKey;
let jwks: JwksServer;
let clock: number;
const now = (): number => clock;

async function sign(claims: JWTPayload, options: SignOptions = {}): Promise<string> {
  const key = options.key ?? rsa1;
  const kid = options.kid === undefined ? key.kid : options.kid;
  const jwt = new SignJWT({ jti: randomUUID(), ...claims })
    .setProtectedHeader({ alg: options.alg ?? 'RS256', ...(kid === null ? {} : { kid }) })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt(T0_SECONDS);
  if (options.expiresIn !== null) jwt.setExpirationTime(T0_SECONDS + (options.expiresIn ?? 600));
  if (options.notBefore !== undefined) jwt.setNotBefore(T0_SECONDS + options.notBefore);
  return jwt.sign(key.privateKey);
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function remoteIssuer(url: string, extra: Partial<Parameters<typeof defineIssuer>[0]> = {}): IssuerConfig {
  return defineIssuer({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['RS256'], jwksUrl: url, ...extra });
}

function verifierFor(issuers: readonly IssuerConfig[], options: Partial<TokenVerifierOptions> = {}) {
  return createTokenVerifier({ issuers, now, jwksCooldownMs: 0, ...options });
}

/** Awaits a refusal and checks its code; returns the error for further checks. */
async function refusal(promise: Promise<unknown>, code: AuthErrorCode): Promise<AuthError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected ${code}, but the token was accepted`);
    },
    (error: unknown) => error,
  );
  expect(isAuthError(error), String(error)).toBe(true);
  expect((error as AuthError).code, (error as AuthError).message).toBe(code);
  return error as AuthError;
}

beforeAll(async () => {
  rsa1 = await makeKey('RS256', 'rsa-1');
  rsa2 = await makeKey('RS256', 'rsa-2');
});

afterEach(async () => {
  await jwks?.close();
});

describe('a valid token', () => {
  it('maps the default claims onto a Principal, with scopes from a space-separated string', async () => {
    clock = T0;
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    const verifier = verifierFor([remoteIssuer(jwks.url)]);
    const principal = await verifier.verify(await sign({ ...BASE_CLAIMS, citizen_id: '110101199003071234', purpose: 'licence-review', case_id: 'MS-2026-0042' }));
    expect(principal).toEqual({
      issuer: ISSUER,
      subject: 'user-1',
      bureau: 'market-supervision',
      app: 'licensing-portal',
      user: 'li.wei',
      roles: ['developer'],
      scopes: ['hrss.social-insurance', 'psb.household'],
      citizen: '110101199003071234',
      purpose: 'licence-review',
      caseId: 'MS-2026-0042',
      expiresAt: T0_SECONDS + 600,
    });
    expect(Object.isFrozen(principal)).toBe(true);
  });

  it('reads scopes from an array of strings, and an absent scope claim as no scopes', async () => {
    clock = T0;
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    const verifier = verifierFor([remoteIssuer(jwks.url)]);
    const fromArray = await verifier.verify(await sign({ ...BASE_CLAIMS, scope: ['hrss.social-insurance', 'psb.household', 'hrss.social-insurance'] }));
    expect(fromArray.scopes).toEqual(['hrss.social-insurance', 'psb.household']);
    const { scope: _omitted, ...withoutScope } = BASE_CLAIMS;
    expect((await verifier.verify(await sign(withoutScope))).scopes).toEqual([]);
  });

  it('takes the app from client_id when azp is absent', async () => {
    clock = T0;
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    const { azp: _omitted, ...claims } = BASE_CLAIMS;
    const principal = await verifierFor([remoteIssuer(jwks.url)]).verify(await sign({ ...claims, client_id: 'batch-exporter' }));
    expect(principal.app).toBe('batch-exporter');
  });

  it('accepts a token that expired within the clock tolerance', async () => {
    clock = T0 + 620_000; // exp was T0+600 s, 20 s ago; tolerance is 30 s
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    const principal = await verifierFor([remoteIssuer(jwks.url)]).verify(await sign(BASE_CLAIMS));
    expect(principal.bureau).toBe('market-supervision');
  });
});

describe('token faults', () => {
  it('refuses an expired token, saying when it expired and not quoting the token', async () => {
    clock = T0 + 700_000;
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    const token = await sign(BASE_CLAIMS);
    const error = await refusal(verifierFor([remoteIssuer(jwks.url)]).verify(token), 'TOKEN_EXPIRED');
    expect(error.message).toContain('the token expired at 2026-03-01T10:10:00.000Z');
    expect(error.issuer).toBe(ISSUER);
    expect(error.message).not.toContain(token.split('.')[2]);
  });

  it('refuses a token that is not yet valid (nbf)', async () => {
    clock = T0;
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    const error = await refusal(verifierFor([remoteIssuer(jwks.url)]).verify(await sign(BASE_CLAIMS, { notBefore: 120 })), 'TOKEN_NOT_YET_VALID');
    expect(error.message).toContain('not valid before 2026-03-01T10:02:00.000Z');
  });

  it('refuses a token from an issuer nobody trusts', async () => {
    clock = T0;
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    const error = await refusal(verifierFor([remoteIssuer(jwks.url)]).verify(await sign(BASE_CLAIMS, { issuer: 'https://evil.test' })), 'ISSUER_UNKNOWN');
    expect(error.message).toContain('"https://evil.test" is not trusted');
    expect(error.message).toContain(ISSUER);
    expect(jwks.fetches).toBe(0);
  });

  it('refuses a token for another audience, naming the expected one', async () => {
    clock = T0;
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    const error = await refusal(verifierFor([remoteIssuer(jwks.url)]).verify(await sign(BASE_CLAIMS, { audience: 'some-other-api' })), 'AUDIENCE_MISMATCH');
    expect(error.message).toBe('audience must be isthmus-gateway');
  });

  it('refuses a bad signature: another key under the trusted kid, or a swapped payload', async () => {
    clock = T0;
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    const verifier = verifierFor([remoteIssuer(jwks.url)]);
    await refusal(verifier.verify(await sign(BASE_CLAIMS, { key: rsa2, kid: rsa1.kid })), 'SIGNATURE_INVALID');
    const genuine = (await sign(BASE_CLAIMS)).split('.');
    const forged = `${genuine[0]}.${base64url({ ...BASE_CLAIMS, bureau: 'public-security', iss: ISSUER, aud: AUDIENCE, exp: T0_SECONDS + 600 })}.${genuine[2]}`;
    await refusal(verifier.verify(forged), 'SIGNATURE_INVALID');
  });

  it('refuses alg: none, crafted by hand', async () => {
    clock = T0;
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    const unsigned = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ ...BASE_CLAIMS, iss: ISSUER, aud: AUDIENCE, exp: T0_SECONDS + 600 })}.`;
    const error = await refusal(verifierFor([remoteIssuer(jwks.url)]).verify(unsigned), 'ALGORITHM_NOT_ALLOWED');
    expect(error.message).toContain('"none"');
    expect(error.message).toContain('accepts only RS256');
  });

  it('refuses HS256 signed with the RSA public key as the secret (algorithm confusion)', async () => {
    clock = T0;
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    const verifier = verifierFor([remoteIssuer(jwks.url)]);
    const pem = new TextEncoder().encode(await exportSPKI(rsa1.publicKey));
    const withPem = await new SignJWT(BASE_CLAIMS).setProtectedHeader({ alg: 'HS256', kid: rsa1.kid }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime(T0_SECONDS + 600).sign(pem);
    await refusal(verifier.verify(withPem), 'ALGORITHM_NOT_ALLOWED');
    const modulus = new Uint8Array(Buffer.from(rsa1.jwk.n!, 'base64url'));
    const withModulus = await new SignJWT(BASE_CLAIMS).setProtectedHeader({ alg: 'HS256', kid: rsa1.kid }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime(T0_SECONDS + 600).sign(modulus);
    await refusal(verifier.verify(withModulus), 'ALGORITHM_NOT_ALLOWED');
    // No key was even looked up for them.
    expect(jwks.fetches).toBe(0);
  });

  it('refuses a token without exp', async () => {
    clock = T0;
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    const error = await refusal(verifierFor([remoteIssuer(jwks.url)]).verify(await sign(BASE_CLAIMS, { expiresIn: null })), 'CLAIM_INVALID');
    expect(error).toMatchObject({ claim: 'exp' });
  });

  it('refuses what is not a JWT, and oversized input, as TOKEN_MALFORMED', async () => {
    clock = T0;
    const verifier = verifierFor([]);
    await refusal(verifier.verify('not-a-token'), 'TOKEN_MALFORMED');
    await refusal(verifier.verify('a.b.c'), 'TOKEN_MALFORMED');
    await refusal(verifier.verify(`${base64url({ alg: 'RS256' })}.${'A'.repeat(MAX_TOKEN_LENGTH)}.x`), 'TOKEN_MALFORMED');
    await refusal(verifier.verify(''), 'TOKEN_MISSING');
  });

  it('never quotes the token in any refusal', async () => {
    clock = T0 + 700_000;
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    const verifier = verifierFor([remoteIssuer(jwks.url)]);
    const tokens = [
      await sign(BASE_CLAIMS),
      await sign(BASE_CLAIMS, { audience: 'x' }),
      await sign(BASE_CLAIMS, { key: rsa2, kid: rsa1.kid }),
      await sign({ ...BASE_CLAIMS, scope: 42 }, { expiresIn: 10_000 }),
    ];
    for (const token of tokens) {
      const error = await verifier.verify(token).catch((caught: unknown) => caught as Error);
      expect(error).toBeInstanceOf(AuthError);
      for (const part of token.split('.')) expect((error as Error).message).not.toContain(part);
    }
  });
});

describe('claims', () => {
  const claimCases: readonly [string, JWTPayload, string][] = [
    ['scopes as a number', { ...BASE_CLAIMS, scope: 42 }, 'scope'],
    ['scopes as an array holding a non-string', { ...BASE_CLAIMS, scope: ['hrss.social-insurance', 7] }, 'scope'],
    ['scopes as an object', { ...BASE_CLAIMS, scope: { all: true } }, 'scope'],
    ['roles as a number', { ...BASE_CLAIMS, roles: 1 }, 'roles'],
    ['an unknown role', { ...BASE_CLAIMS, roles: ['developer', 'superuser'] }, 'roles'],
    ['a missing bureau', { ...BASE_CLAIMS, bureau: undefined }, 'bureau'],
    ['an empty bureau', { ...BASE_CLAIMS, bureau: '' }, 'bureau'],
    ['a missing app', { ...BASE_CLAIMS, azp: undefined }, 'azp'],
    ['a citizen that is not a string', { ...BASE_CLAIMS, citizen_id: 110101199003071234 }, 'citizen_id'],
    ['a missing sub', { ...BASE_CLAIMS, sub: undefined }, 'sub'],
  ];
  for (const [name, claims, claim] of claimCases) {
    it(`refuses ${name} as CLAIM_INVALID naming "${claim}", never as an empty grant`, async () => {
      clock = T0;
      jwks = await startJwksServer({ keys: [rsa1.jwk] });
      const error = await refusal(verifierFor([remoteIssuer(jwks.url)]).verify(await sign(claims)), 'CLAIM_INVALID');
      expect(error).toMatchObject({ claim });
      expect(error.message).toContain(`"${claim}"`);
    });
  }

  it('maps claims of a differently shaped issuer (ES256, configured keys, nested and namespaced claims)', async () => {
    clock = T0;
    const es = await makeKey('ES256', 'housing-2026');
    const housing = defineIssuer({
      issuer: 'https://login.housing.test',
      audience: ['api://isthmus', AUDIENCE],
      algorithms: ['ES256'],
      keys: [es.jwk],
      clockToleranceSeconds: 0,
      claims: {
        subject: 'oid',
        bureau: 'https://city.example/bureau',
        app: ['appid', 'client_id'],
        user: 'email',
        roles: '/realm_access/roles',
        scopes: 'scp',
        citizen: '/ext/citizen~1id',
        purpose: 'https://city.example/purpose',
        caseId: '/ext/case',
      },
    });
    const claims = {
      oid: '6f1c',
      'https://city.example/bureau': 'housing-fund',
      client_id: 'hf-portal',
      email: 'wang.fang@housing.test',
      realm_access: { roles: ['data_officer', 'developer'] },
      scp: ['psb.household'],
      ext: { 'citizen/id': '110101199003071234', case: 'HF-7' },
      'https://city.example/purpose': 'loan-check',
      // Claims under the default names are ignored for this issuer.
      bureau: 'public-security',
      roles: ['operator'],
    };
    const verifier = verifierFor([remoteIssuerStub(), housing]);
    const principal = await verifier.verify(await sign(claims, { key: es, alg: 'ES256', issuer: 'https://login.housing.test', audience: 'api://isthmus' }));
    expect(principal).toEqual({
      issuer: 'https://login.housing.test',
      subject: '6f1c',
      bureau: 'housing-fund',
      app: 'hf-portal',
      user: 'wang.fang@housing.test',
      roles: ['data_officer', 'developer'],
      scopes: ['psb.household'],
      citizen: '110101199003071234',
      purpose: 'loan-check',
      caseId: 'HF-7',
      expiresAt: T0_SECONDS + 600,
    });
    // Zero clock tolerance for this issuer: one second late is late.
    clock = T0 + 601_000;
    await refusal(verifier.verify(await sign(claims, { key: es, alg: 'ES256', issuer: 'https://login.housing.test', audience: 'api://isthmus' })), 'TOKEN_EXPIRED');
    // The RS256 issuer's rules do not leak into this one's.
    await refusal(verifier.verify(await sign(claims, { key: rsa1, issuer: 'https://login.housing.test', audience: 'api://isthmus' })), 'ALGORITHM_NOT_ALLOWED');
  });

  it('refuses a bureau the issuer may not speak for', async () => {
    clock = T0;
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    const verifier = verifierFor([remoteIssuer(jwks.url, { bureaus: ['market-supervision'] })]);
    expect((await verifier.verify(await sign(BASE_CLAIMS))).bureau).toBe('market-supervision');
    const error = await refusal(verifier.verify(await sign({ ...BASE_CLAIMS, bureau: 'public-security' })), 'CLAIM_INVALID');
    expect(error.message).toContain('may not speak for bureau "public-security"');
  });

  it('verifies HS256 tokens of an issuer with a shared secret, and refuses other secrets', async () => {
    clock = T0;
    const secret = 'a shared secret of well over thirty-two bytes';
    const issuer = defineIssuer({ issuer: 'legacy-hr', audience: AUDIENCE, algorithms: ['HS256'], keys: secret });
    const verifier = verifierFor([issuer]);
    const hs = (key: string): Promise<string> =>
      new SignJWT(BASE_CLAIMS).setProtectedHeader({ alg: 'HS256' }).setIssuer('legacy-hr').setAudience(AUDIENCE).setExpirationTime(T0_SECONDS + 60).sign(new TextEncoder().encode(key));
    expect((await verifier.verify(await hs(secret))).app).toBe('licensing-portal');
    await refusal(verifier.verify(await hs('another secret, also longer than 32 bytes')), 'SIGNATURE_INVALID');
  });
});

/** An issuer that is configured but never used in a test, so the verifier holds more than one. */
function remoteIssuerStub(): IssuerConfig {
  return defineIssuer({ issuer: 'https://unused.test', audience: AUDIENCE, algorithms: ['RS256'], jwksUrl: 'http://127.0.0.1:9/jwks.json' });
}

describe('key rotation', () => {
  it('refetches the JWKS for an unknown kid and picks up the rotated key without a restart', async () => {
    clock = T0;
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    const verifier = verifierFor([remoteIssuer(jwks.url)]);
    await verifier.verify(await sign(BASE_CLAIMS));
    expect(jwks.fetches).toBe(1);

    // The issuer starts signing with rsa-2 before publishing it: refused, after one refetch.
    const rotated = await sign(BASE_CLAIMS, { key: rsa2 });
    const error = await refusal(verifier.verify(rotated), 'SIGNATURE_INVALID');
    expect(error.message).toContain('kid "rsa-2"');
    expect(jwks.fetches).toBe(2);

    jwks.setKeys({ keys: [rsa2.jwk] });
    const principal = await verifier.verify(rotated);
    expect(principal.subject).toBe('user-1');
    expect(jwks.fetches).toBe(3);
    // And the withdrawn key is gone for new tokens.
    await refusal(verifier.verify(await sign(BASE_CLAIMS, { key: rsa1 })), 'SIGNATURE_INVALID');
  });

  it('waits out the cooldown before refetching for an unknown kid, so made-up kids cannot flood the issuer', async () => {
    clock = T0;
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    const verifier = createTokenVerifier({ issuers: [remoteIssuer(jwks.url)], now });
    await verifier.verify(await sign(BASE_CLAIMS));
    // The first unknown kid is looked up at once: the issuer does not publish it, so it is not the issuer's key.
    await refusal(verifier.verify(await sign(BASE_CLAIMS, { key: rsa2, kid: 'made-up-0' })), 'SIGNATURE_INVALID');
    expect(jwks.fetches).toBe(2);
    // Inside the 5 s cooldown, new kids are not looked up: each is told to retry when the cooldown ends, not called a forgery.
    clock = T0 + 1_500;
    for (let index = 1; index <= 5; index += 1) {
      const error = await refusal(verifier.verify(await sign(BASE_CLAIMS, { key: rsa2, kid: `made-up-${index}` })), 'KEY_NOT_YET_KNOWN');
      expect(error.retryAfterSeconds).toBe(4);
      expect(error.message).toContain(`kid "made-up-${index}"`);
    }
    // The kid the last fetch already lacked stays refused as a forgery.
    await refusal(verifier.verify(await sign(BASE_CLAIMS, { key: rsa2, kid: 'made-up-0' })), 'SIGNATURE_INVALID');
    expect(jwks.fetches).toBe(2);
    // Once the cooldown allows, the next unknown kid is looked up: still not published, so now SIGNATURE_INVALID.
    clock = T0 + 5_000;
    await refusal(verifier.verify(await sign(BASE_CLAIMS, { key: rsa2, kid: 'made-up-1' })), 'SIGNATURE_INVALID');
    expect(jwks.fetches).toBe(3);
  });

  it('answers a key rotated in during the cooldown as retryable, and accepts it as soon as the cooldown allows a refetch', async () => {
    clock = T0;
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    const verifier = createTokenVerifier({ issuers: [remoteIssuer(jwks.url, { jwksCooldownSeconds: 20 })], now });
    await verifier.verify(await sign(BASE_CLAIMS));
    await refusal(verifier.verify(await sign(BASE_CLAIMS, { key: rsa2, kid: 'made-up' })), 'SIGNATURE_INVALID');
    expect(jwks.fetches).toBe(2);

    // The issuer rotates: publishes rsa-2 and signs with it, 3 s into the gateway's 20 s cooldown.
    jwks.setKeys({ keys: [rsa2.jwk, rsa1.jwk] });
    clock = T0 + 3_000;
    const rotated = await sign(BASE_CLAIMS, { key: rsa2 });
    const error = await refusal(verifier.verify(rotated), 'KEY_NOT_YET_KNOWN');
    expect(error.retryAfterSeconds).toBe(17);
    expect(jwks.fetches).toBe(2);
    // The client retries when told: the refetch finds the key.
    clock = T0 + 20_000;
    expect((await verifier.verify(rotated)).subject).toBe('user-1');
    expect(jwks.fetches).toBe(3);
  });

  it('refreshes the key set in the background once started, so a rotated key is known before its first token', async () => {
    clock = T0;
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    const verifier = createTokenVerifier({ issuers: [remoteIssuer(jwks.url)], now: Date.now, jwksMaxAgeMs: 100 });
    try {
      verifier.start();
      await waitFor(() => verifier.keySets()[0]!.state === 'ready' || undefined, { what: 'the first background fetch' });
      expect(verifier.keySets()[0]).toMatchObject({ issuer: ISSUER, state: 'ready', keys: 1, jwksUri: jwks.url });
      const first = verifier.keySets()[0]!.fetchedAt;
      jwks.setKeys({ keys: [rsa2.jwk] });
      await waitFor(() => verifier.keySets()[0]!.fetchedAt !== first || undefined, { what: 'a background refresh' });
      // The provider fails from now on: rsa-2 can only have come from the background refresh, before any token asked for it.
      jwks.setBehaviour('error');
      const token = await new SignJWT({ ...BASE_CLAIMS }).setProtectedHeader({ alg: 'RS256', kid: rsa2.kid }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(rsa2.privateKey);
      expect((await verifier.verify(token)).subject).toBe('user-1');
      // A failed refresh keeps the keys in hand, and says why.
      await waitFor(() => verifier.keySets()[0]!.reason, { what: 'a failed refresh reported' });
      expect(verifier.keySets()[0]).toMatchObject({ state: 'ready', keys: 1 });
      expect(verifier.keySets()[0]!.reason).toMatch(/answered 500/);
    } finally {
      verifier.close();
    }
    const stopped = jwks.fetches;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(jwks.fetches).toBe(stopped);
  });

  it('tries each key when the token has no kid', async () => {
    clock = T0;
    jwks = await startJwksServer({ keys: [rsa1.jwk, rsa2.jwk].map(({ kid: _kid, ...jwk }) => jwk) });
    const verifier = verifierFor([remoteIssuer(jwks.url)]);
    expect((await verifier.verify(await sign(BASE_CLAIMS, { key: rsa2, kid: null }))).bureau).toBe('market-supervision');
  });
});

describe('keys out of reach', () => {
  it('reports KEYS_UNAVAILABLE when the JWKS endpoint fails, hangs past the timeout, or is not there', async () => {
    clock = T0;
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    const token = await sign(BASE_CLAIMS);

    jwks.setBehaviour('error');
    const failed = await refusal(verifierFor([remoteIssuer(jwks.url)]).verify(token), 'KEYS_UNAVAILABLE');
    expect(failed.message).toContain(jwks.url);

    jwks.setBehaviour('hang');
    // The endpoint never answers: that the refusal comes at all is the verifier's own timeout at work.
    const hung = await refusal(
      settleWithin(verifierFor([remoteIssuer(jwks.url)], { fetchTimeoutMs: 200 }).verify(token), { what: 'verifying against a JWKS endpoint that never answers' }),
      'KEYS_UNAVAILABLE',
    );
    expect(hung.message).toContain('within 200 ms');

    const closedUrl = jwks.url;
    await jwks.close();
    await refusal(verifierFor([remoteIssuer(closedUrl)]).verify(token), 'KEYS_UNAVAILABLE');
  });

  it('stops waiting when the caller aborts', async () => {
    clock = T0;
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    jwks.setBehaviour('hang');
    const verifier = verifierFor([remoteIssuer(jwks.url)], { fetchTimeoutMs: 1_000 });
    const token = await sign(BASE_CLAIMS);
    await expect(verifier.verify(token, AbortSignal.timeout(50))).rejects.toMatchObject({ name: 'TimeoutError' });
    await expect(verifier.verify(token, AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('the verified-token cache', () => {
  // With a zero JWKS max age jose fetches the key set on every jwtVerify
  // call, so the fetch count is the number of verifications that really ran.
  const cachedVerifier = (url: string, options: Partial<TokenVerifierOptions> = {}) => verifierFor([remoteIssuer(url)], { jwksMaxAgeMs: 0, ...options });

  it('answers a second verify of the same token without verifying it again', async () => {
    clock = T0;
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    const verifier = cachedVerifier(jwks.url);
    const token = await sign(BASE_CLAIMS);
    const first = await verifier.verify(token);
    expect(jwks.fetches).toBe(1);
    const second = await verifier.verify(token);
    expect(second).toBe(first);
    expect(jwks.fetches).toBe(1);
    // A different token is verified for real.
    await verifier.verify(await sign(BASE_CLAIMS));
    expect(jwks.fetches).toBe(2);
  });

  it('keeps a verified token at most 60 s: a withdrawn key stops working once the entry lapses', async () => {
    clock = T0;
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    const verifier = cachedVerifier(jwks.url);
    const token = await sign(BASE_CLAIMS, { expiresIn: 3_600 });
    await verifier.verify(token);

    jwks.setKeys({ keys: [rsa2.jwk] }); // the issuer withdraws rsa-1
    clock = T0 + 59_000;
    expect((await verifier.verify(token)).bureau).toBe('market-supervision');
    expect(jwks.fetches).toBe(1);

    clock = T0 + 60_000;
    await refusal(verifier.verify(token), 'SIGNATURE_INVALID');
    expect(jwks.fetches).toBeGreaterThan(1);
  });

  it('drops an entry at the token\'s exp, sooner than the TTL', async () => {
    clock = T0;
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    const verifier = cachedVerifier(jwks.url, { cacheTtlMs: 600_000 });
    const token = await sign(BASE_CLAIMS, { expiresIn: 20 });
    await verifier.verify(token);
    clock = T0 + 21_000; // past exp, inside the 30 s tolerance: verified again, and accepted
    await verifier.verify(token);
    expect(jwks.fetches).toBe(2);
    clock = T0 + 51_000;
    await refusal(verifier.verify(token), 'TOKEN_EXPIRED');
  });

  it('never caches refusals, and can be turned off', async () => {
    clock = T0;
    jwks = await startJwksServer({ keys: [rsa1.jwk] });
    const off = cachedVerifier(jwks.url, { cacheSize: 0 });
    const token = await sign(BASE_CLAIMS);
    await off.verify(token);
    await off.verify(token);
    expect(jwks.fetches).toBe(2);

    const verifier = cachedVerifier(jwks.url);
    const forged = await sign(BASE_CLAIMS, { key: rsa2, kid: rsa1.kid });
    await refusal(verifier.verify(forged), 'SIGNATURE_INVALID');
    await refusal(verifier.verify(forged), 'SIGNATURE_INVALID');
    expect(jwks.fetches).toBe(4);
  });
});

describe('authenticateRequest', () => {
  let verifier: ReturnType<typeof createTokenVerifier>;
  let es: TestKey;
  beforeAll(async () => {
    es = await makeKey('ES256', 'es-1');
    verifier = verifierFor([defineIssuer({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], keys: [es.jwk] })]);
  });

  it('verifies the bearer token of fetch Headers and of node:http headers', async () => {
    clock = T0;
    const token = await sign(BASE_CLAIMS, { key: es, alg: 'ES256' });
    expect((await authenticateRequest(new Headers({ authorization: `Bearer ${token}` }), verifier)).app).toBe('licensing-portal');
    expect((await authenticateRequest({ authorization: `bearer ${token}` }, verifier)).app).toBe('licensing-portal');
  });

  it('reports a missing header as TOKEN_MISSING and other shapes as TOKEN_MALFORMED', async () => {
    await refusal(authenticateRequest(new Headers(), verifier), 'TOKEN_MISSING');
    await refusal(authenticateRequest({}, verifier), 'TOKEN_MISSING');
    await refusal(authenticateRequest({ authorization: 'Basic dXNlcjpwYXNz' }, verifier), 'TOKEN_MALFORMED');
    await refusal(authenticateRequest({ authorization: 'Bearer' }, verifier), 'TOKEN_MALFORMED');
    await refusal(authenticateRequest({ authorization: 'Bearer a b' }, verifier), 'TOKEN_MALFORMED');
    await refusal(authenticateRequest({ authorization: ['Bearer a', 'Bearer b'] }, verifier), 'TOKEN_MALFORMED');
    expect(() => readBearerToken({ authorization: 'Basic x' })).toThrow(/Bearer scheme/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { startJwksServer, type JwksServer } from '../../test/support/jwks-server.ts';
import type { AnyAuthError, AuthErrorCode } from './auth-error.ts';
import {
  CONSUMER_ASSERTION_TYPE,
  createConsumerAssertionVerifier,
  GATEWAY_ISSUER,
  GATEWAY_SIGNING_KEY_FILE,
  openConsumerAssertionSigner,
  type ConsumerAssertionSigner,
} from './consumer-assertion.ts';
import { openDevIssuer } from './dev-issuer.ts';
import { openSigningKey } from './signing-key.ts';

const T0 = Date.UTC(2026, 2, 1, 10, 0, 0);
let clock = T0;
const now = (): number => clock;

const REQUEST = {
  bureau: 'market-supervision',
  app: 'licensing-portal',
  user: 'li.wei',
  purpose: 'licence-review',
  caseId: 'MS-2026-0042',
};

let signer: ConsumerAssertionSigner;
let jwks: JwksServer;
let dir: string;

beforeAll(async () => {
  signer = await openConsumerAssertionSigner({ keysDir: undefined, now });
  jwks = await startJwksServer(signer.jwks);
  dir = await mkdtemp(join(tmpdir(), 'isthmus-assertion-'));
});

afterAll(async () => {
  await jwks.close();
  await rm(dir, { recursive: true, force: true });
});

async function refusal(promise: Promise<unknown>, code: AuthErrorCode): Promise<AnyAuthError> {
  const error = (await promise.then(
    () => {
      throw new Error(`expected ${code}, but the assertion was accepted`);
    },
    (caught: unknown) => caught,
  )) as AnyAuthError;
  expect(error.code, error.message).toBe(code);
  return error;
}

describe('consumer assertions', () => {
  it('round-trips: signed by the gateway, verified by the bureau through the gateway JWKS over HTTP', async () => {
    clock = T0;
    const assertion = await signer.signConsumerAssertion({ ...REQUEST, provider: 'hrss', agreements: ['agr-hrss-42', 'agr-hrss-43'] });
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: 'ES256', kid: signer.kid, typ: CONSUMER_ASSERTION_TYPE });
    expect(decodeJwt(assertion)).toMatchObject({ iss: GATEWAY_ISSUER, aud: 'hrss', iat: T0 / 1_000, exp: T0 / 1_000 + 60 });

    const hrss = createConsumerAssertionVerifier({ bureau: 'hrss', jwksUrl: jwks.url, now });
    clock = T0 + 5_000;
    expect(await hrss.verify(assertion)).toEqual({
      ...REQUEST,
      provider: 'hrss',
      agreements: ['agr-hrss-42', 'agr-hrss-43'],
      issuedAt: T0 / 1_000,
      expiresAt: T0 / 1_000 + 60,
    });
    expect(jwks.fetches).toBe(1);
  });

  it('also verifies with the keys given directly, and without the optional fields', async () => {
    clock = T0;
    const assertion = await signer.signConsumerAssertion({ bureau: 'hrss', app: 'pension-batch', provider: 'public-security', agreements: [] });
    const verified = await createConsumerAssertionVerifier({ bureau: 'public-security', keys: signer.jwks.keys, now }).verify(assertion);
    expect(verified).toEqual({ bureau: 'hrss', app: 'pension-batch', provider: 'public-security', agreements: [], issuedAt: T0 / 1_000, expiresAt: T0 / 1_000 + 60 });
  });

  it('refuses a missing assertion', async () => {
    const hrss = createConsumerAssertionVerifier({ bureau: 'hrss', keys: signer.jwks.keys, now });
    const error = await refusal(hrss.verify(undefined), 'TOKEN_MISSING');
    expect(error.message).toContain('x-isthmus-consumer');
    await refusal(hrss.verify(null), 'TOKEN_MISSING');
    await refusal(hrss.verify('garbage'), 'TOKEN_MALFORMED');
  });

  it('refuses an expired assertion', async () => {
    clock = T0;
    const assertion = await signer.signConsumerAssertion({ ...REQUEST, provider: 'hrss', agreements: ['agr-hrss-42'] });
    clock = T0 + 95_000; // exp + 30 s tolerance has passed
    const error = await refusal(createConsumerAssertionVerifier({ bureau: 'hrss', keys: signer.jwks.keys, now }).verify(assertion), 'TOKEN_EXPIRED');
    expect(error.message).toContain('expired at 2026-03-01T10:01:00.000Z');
  });

  it('refuses an assertion meant for another bureau', async () => {
    clock = T0;
    const assertion = await signer.signConsumerAssertion({ ...REQUEST, provider: 'public-security', agreements: ['agr-psb-1'] });
    const error = await refusal(createConsumerAssertionVerifier({ bureau: 'hrss', keys: signer.jwks.keys, now }).verify(assertion), 'AUDIENCE_MISMATCH');
    expect(error.message).toBe('audience must be hrss');
  });

  it('refuses a bad signature: another gateway\'s key, or an edited payload', async () => {
    clock = T0;
    const hrss = createConsumerAssertionVerifier({ bureau: 'hrss', keys: signer.jwks.keys, now });
    const impostor = await openConsumerAssertionSigner({ keysDir: undefined, now });
    await refusal(hrss.verify(await impostor.signConsumerAssertion({ ...REQUEST, provider: 'hrss', agreements: [] })), 'SIGNATURE_INVALID');

    const [header, payload, signature] = (await signer.signConsumerAssertion({ ...REQUEST, provider: 'hrss', agreements: ['agr-hrss-42'] })).split('.');
    const edited = Buffer.from(JSON.stringify({ ...decodeJwt(`${header}.${payload}.${signature}`), agreements: ['agr-hrss-42', 'agr-hrss-99'] })).toString('base64url');
    await refusal(hrss.verify(`${header}.${edited}.${signature}`), 'SIGNATURE_INVALID');
  });

  it('refuses an access token presented as an assertion, even one signed with the gateway key', async () => {
    clock = T0;
    const keysDir = join(dir, 'typ');
    const gateway = await openConsumerAssertionSigner({ keysDir, now });
    const hrss = createConsumerAssertionVerifier({ bureau: 'hrss', keys: gateway.jwks.keys, now });
    // Same key file, so the same private key: a JWT of the wrong type.
    const key = await openSigningKey({ dir: keysDir, fileName: GATEWAY_SIGNING_KEY_FILE, purpose: 'test' });
    const accessToken = await new SignJWT({ request_id: 'r', consumer_bureau: 'b', consumer_app: 'a', agreements: [] })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
      .setIssuer(GATEWAY_ISSUER)
      .setAudience('hrss')
      .setIssuedAt(T0 / 1_000)
      .setExpirationTime(T0 / 1_000 + 60)
      .sign(key.privateKey);
    expect(await refusal(hrss.verify(accessToken), 'CLAIM_INVALID')).toMatchObject({ claim: 'typ' });
    // And a dev token, from another issuer and key, is not an assertion either.
    const dev = await openDevIssuer({ keysDir: undefined, now });
    await refusal(hrss.verify(await dev.signDevToken({ bureau: 'b', app: 'a', ttl: 60 })), 'SIGNATURE_INVALID');
  });

  it('refuses malformed vouched-for claims', async () => {
    clock = T0;
    const keysDir = join(dir, 'claims');
    const gateway = await openConsumerAssertionSigner({ keysDir, now });
    const key = await openSigningKey({ dir: keysDir, fileName: GATEWAY_SIGNING_KEY_FILE, purpose: 'test' });
    const assertion = await new SignJWT({ request_id: 'r', consumer_bureau: 'b', consumer_app: 'a', agreements: 'agr-1' })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: CONSUMER_ASSERTION_TYPE })
      .setIssuer(GATEWAY_ISSUER)
      .setAudience('hrss')
      .setIssuedAt(T0 / 1_000)
      .setExpirationTime(T0 / 1_000 + 60)
      .sign(key.privateKey);
    const error = await refusal(createConsumerAssertionVerifier({ bureau: 'hrss', keys: gateway.jwks.keys, now }).verify(assertion), 'CLAIM_INVALID');
    expect(error).toMatchObject({ claim: 'agreements' });
  });

  it('reuses an assertion for the same statement while half its life is left, and signs anew for anything that differs', async () => {
    clock = T0;
    const fresh = await openConsumerAssertionSigner({ keysDir: undefined, now, cacheSize: 3 });
    const hrss = { ...REQUEST, provider: 'hrss', agreements: ['agr-hrss-42'] };
    const first = fresh.assertionFor(hrss);
    expect(fresh.assertionFor({ ...hrss, agreements: ['agr-hrss-42'] })).toBe(first);
    // Every stated part makes a different assertion: bureau, app, user, purpose, case, agreements, provider.
    const variants = [
      { ...hrss, provider: 'public-security' },
      { ...hrss, bureau: 'civil-affairs' },
      { ...hrss, app: 'other-app' },
      { ...hrss, user: 'wang.fang' },
      { ...hrss, purpose: 'other-purpose' },
      { ...hrss, caseId: 'MS-2026-0043' },
      { ...hrss, agreements: ['agr-hrss-42', 'agr-hrss-43'] },
      { ...hrss, agreements: [] },
    ];
    for (const variant of variants) expect(await fresh.assertionFor(variant)).not.toBe(await first);
    // No separator can be smuggled in through a claim to collide with another statement.
    const { user: _user, ...anonymous } = hrss;
    expect(await fresh.assertionFor({ ...anonymous, app: `${hrss.app}","${hrss.user}` })).not.toBe(await first);

    const again = fresh.assertionFor(hrss);
    clock = T0 + 29_000;
    expect(fresh.assertionFor(hrss)).toBe(again);
    clock = T0 + 30_000;
    const renewed = fresh.assertionFor(hrss);
    expect(renewed).not.toBe(again);
    expect(decodeJwt(await renewed)).toMatchObject({ iat: (T0 + 30_000) / 1_000, exp: (T0 + 30_000) / 1_000 + 60 });
    // The request id is not part of the statement: it travels beside it as x-request-id.
    expect(decodeJwt(await renewed)).not.toHaveProperty('request_id');
  });

  it('does not keep a failed signature', async () => {
    clock = T0;
    const fresh = await openConsumerAssertionSigner({ keysDir: undefined, now });
    const bad = { ...REQUEST, provider: 'hrss', agreements: [''] };
    await expect(fresh.assertionFor(bad)).rejects.toThrow(/agreements/);
    await expect(fresh.assertionFor(bad)).rejects.toThrow(/agreements/);
    await expect(openConsumerAssertionSigner({ keysDir: undefined, cacheSize: 0 })).rejects.toThrow(/cacheSize/);
  });

  it('checks its options up front', async () => {
    expect(() => createConsumerAssertionVerifier({ bureau: 'hrss' })).toThrow(/jwksUrl or keys/);
    expect(() => createConsumerAssertionVerifier({ bureau: 'hrss', keys: [], jwksUrl: jwks.url })).toThrow(/jwksUrl or keys/);
    expect(() => createConsumerAssertionVerifier({ bureau: '', keys: [] })).toThrow(/bureau/);
    await expect(openConsumerAssertionSigner({ keysDir: undefined, ttlSeconds: 3_600 })).rejects.toThrow(/ttlSeconds/);
    await expect(signer.signConsumerAssertion({ ...REQUEST, provider: '', agreements: [] })).rejects.toThrow(/provider/);
  });
});

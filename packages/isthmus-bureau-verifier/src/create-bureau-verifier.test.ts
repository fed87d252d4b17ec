import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../test/test-gateway.ts';
import { createBureauVerifier, type BureauVerifier } from './create-bureau-verifier.ts';
import { isVerifierError, type VerifierErrorCode } from './verifier-error.ts';

const T0 = Date.UTC(2026, 2, 1, 10, 0, 0);
let clock = T0;
const now = (): number => clock;
const BUREAU = 'public-security';

let gateway: TestGateway;
let impostor: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway(now);
  impostor = await startTestGateway(now);
});
afterAll(async () => {
  await gateway?.close();
  await impostor?.close();
});

async function refusal(verifier: BureauVerifier, assertion: string | undefined): Promise<{ code: VerifierErrorCode; status: number; message: string }> {
  try {
    await verifier.verify(assertion);
  } catch (error) {
    if (!isVerifierError(error)) throw error;
    return { code: error.code, status: error.status, message: error.message };
  }
  throw new Error('expected a refusal, but the assertion passed');
}

describe('the bureau verifier', () => {
  it('accepts an assertion for this bureau, through the gateway JWKS over HTTP, and hands over what the gateway vouched for', async () => {
    clock = T0;
    const verifier = createBureauVerifier({ bureau: BUREAU, jwksUrl: gateway.jwksUrl, now });
    const consumer = await verifier.verify(await gateway.sign());
    expect(consumer).toEqual({
      provider: BUREAU,
      bureau: 'civil-affairs',
      app: 'allowance-review',
      user: 'clerk-0042@civil-affairs',
      purpose: 'minimum-living-allowance-review',
      caseId: 'MLA-2026-000123',
      agreements: ['agr-allowance-identity'],
      issuedAt: T0 / 1_000,
      expiresAt: T0 / 1_000 + 60,
    });
    expect(Object.isFrozen(consumer)).toBe(true);
  });

  it('refuses a missing, expired, wrong-audience, wrong-key and replayed-for-another-bureau assertion, each with its own code', async () => {
    clock = T0;
    const verifier = createBureauVerifier({ bureau: BUREAU, jwksUrl: gateway.jwksUrl, now });
    const expired = await gateway.sign();
    const codes = {
      missing: await refusal(verifier, undefined),
      expired: await (async () => {
        clock = T0 + 10 * 60_000;
        try {
          return await refusal(verifier, expired);
        } finally {
          clock = T0;
        }
      })(),
      wrongAudience: await refusal(verifier, await gateway.sign({ aud: [BUREAU, 'market-supervision'] })),
      noAudience: await refusal(verifier, await gateway.sign({ aud: null })),
      wrongKey: await refusal(verifier, await impostor.sign()),
      replayed: await refusal(verifier, await gateway.sign({ aud: 'market-supervision' })),
    };
    expect(Object.fromEntries(Object.entries(codes).map(([name, { code, status }]) => [name, { code, status }]))).toEqual({
      missing: { code: 'ASSERTION_MISSING', status: 401 },
      expired: { code: 'ASSERTION_EXPIRED', status: 401 },
      wrongAudience: { code: 'AUDIENCE_MISMATCH', status: 403 },
      noAudience: { code: 'AUDIENCE_MISMATCH', status: 403 },
      wrongKey: { code: 'SIGNATURE_INVALID', status: 401 },
      replayed: { code: 'ASSERTION_FOR_ANOTHER_BUREAU', status: 403 },
    });
    // The codes differ; the messages never quote the assertion.
    for (const { message } of Object.values(codes)) expect(message).not.toMatch(/eyJ/);
  });

  it('refuses what is not a gateway assertion: malformed, another issuer, another typ, another algorithm, too old, bad claims', async () => {
    clock = T0;
    const verifier = createBureauVerifier({ bureau: BUREAU, keys: gateway.jwks.keys, now });
    expect((await refusal(verifier, 'not.a.jws')).code).toBe('ASSERTION_MALFORMED');
    expect((await refusal(verifier, 'x'.repeat(20_000))).code).toBe('ASSERTION_MALFORMED');
    expect((await refusal(verifier, await gateway.sign({ iss: 'someone-else' }))).code).toBe('ISSUER_MISMATCH');
    expect((await refusal(verifier, await gateway.sign({ typ: 'JWT' }))).code).toBe('ISSUER_MISMATCH');
    // Within exp, but issued longer ago than the verifier allows.
    expect((await refusal(verifier, await gateway.sign({ issuedAt: T0 / 1_000 - 600, ttlSeconds: 3_600 }))).code).toBe('ASSERTION_EXPIRED');
    expect(await refusal(verifier, await gateway.sign({ claims: { consumer_bureau: '' } }))).toMatchObject({ code: 'CLAIM_INVALID', status: 401 });
    expect((await refusal(verifier, await gateway.sign({ claims: { agreements: 'agr-1' } }))).code).toBe('CLAIM_INVALID');
  });

  it('refuses an assertion naming an agreement the bureau does not accept, with 403', async () => {
    clock = T0;
    const listed = createBureauVerifier({ bureau: BUREAU, keys: gateway.jwks.keys, now, acceptAgreements: ['agr-other'] });
    expect(await refusal(listed, await gateway.sign())).toMatchObject({ code: 'AGREEMENT_NOT_ACCEPTED', status: 403 });
    const byRegister = createBureauVerifier({ bureau: BUREAU, keys: gateway.jwks.keys, now, acceptAgreements: (id) => id.startsWith('agr-allowance') });
    expect((await byRegister.verify(await gateway.sign())).agreements).toEqual(['agr-allowance-identity']);
    // OPEN fields need no agreement: an empty list passes.
    expect((await listed.verify(await gateway.sign({ claims: { agreements: [] } }))).agreements).toEqual([]);
  });

  it('answers KEYS_UNAVAILABLE (503) when the gateway keys cannot be fetched, and verifies once they can', async () => {
    clock = T0;
    const down = await startTestGateway(now);
    try {
      down.setDown(true);
      const verifier = createBureauVerifier({ bureau: BUREAU, jwksUrl: down.jwksUrl, now, jwksCooldownMs: 0 });
      const assertion = await down.sign();
      expect(await refusal(verifier, assertion)).toMatchObject({ code: 'KEYS_UNAVAILABLE', status: 503 });
      down.setDown(false);
      expect((await verifier.verify(assertion)).bureau).toBe('civil-affairs');
    } finally {
      await down.close();
    }
  });

  it('checks a repeated assertion once, until its exp', async () => {
    clock = T0;
    const verifier = createBureauVerifier({ bureau: BUREAU, keys: gateway.jwks.keys, now });
    const assertion = await gateway.sign();
    await Promise.all([verifier.verify(assertion), verifier.verify(assertion)]);
    clock = T0 + 30_000;
    await verifier.verify(assertion);
    expect(verifier.verifications()).toBe(1);
    clock = T0 + 61_000 + 30_000;
    expect((await refusal(verifier, assertion)).code).toBe('ASSERTION_EXPIRED');
    expect(verifier.verifications()).toBe(2);
  });

  it('stops waiting when the caller aborts', async () => {
    clock = T0;
    const verifier = createBureauVerifier({ bureau: BUREAU, keys: gateway.jwks.keys, now });
    const aborted = AbortSignal.abort(new Error('client went away'));
    await expect(verifier.verify(await gateway.sign(), aborted)).rejects.toThrow('client went away');
  });

  it('checks its options up front, reporting every problem', () => {
    expect(() => createBureauVerifier({ bureau: '', keys: [], jwksUrl: 'x' })).toThrow(/bureau must be.*jwksUrl or keys/);
    expect(() => createBureauVerifier({ bureau: BUREAU, jwksUrl: 'not a url' })).toThrow(/absolute URL/);
    expect(() => createBureauVerifier({ bureau: BUREAU, jwksUrl: 'file:///etc/keys' })).toThrow(/http\(s\)/);
    expect(() => createBureauVerifier({ bureau: BUREAU, keys: [], fetchTimeoutMs: 0 })).toThrow(/fetchTimeoutMs/);
    expect(() => createBureauVerifier({ bureau: BUREAU, keys: [], acceptAgreements: [''] })).toThrow(/acceptAgreements/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConsumerAssertionSigner, type ConsumerAssertionInput, type ConsumerAssertionSigner } from '../gateway/auth/consumer-assertion.ts';
import { startJwksServer, type JwksServer } from '../test/support/jwks-server.ts';
import { generateCity } from './data/generate-city.ts';
import { createGatewayTrust, type GatewayCheck } from './gateway-trust.ts';
import { startMarketSupervision } from './market-supervision/market-supervision-server.ts';
import { startHttpBureau } from './start-http-bureau.ts';

const T0 = Date.UTC(2026, 2, 1, 10, 0, 0);
let clock = T0;
const now = (): number => clock;

const BUREAU = 'public-security';
const ASKED: ConsumerAssertionInput = {
  provider: BUREAU,
  bureau: 'civil-affairs',
  app: 'allowance-review',
  user: 'he.fang@civil-affairs',
  purpose: 'minimum-living-allowance-review',
  agreements: ['agr-demo-allowance-identity'],
};

let gateway: ConsumerAssertionSigner;
let impostor: ConsumerAssertionSigner;
let jwks: JwksServer;

beforeAll(async () => {
  gateway = await openConsumerAssertionSigner({ keysDir: undefined, now });
  impostor = await openConsumerAssertionSigner({ keysDir: undefined, now });
  jwks = await startJwksServer(gateway.jwks);
});

afterAll(async () => {
  await jwks.close();
});

function refused(check: GatewayCheck): { status: number; code: string; reason: string } {
  if (check.ok) throw new Error('expected a refusal, but the request passed');
  const { status, code, reason } = check.rejection;
  return { status, code, reason };
}

describe('a bureau that trusts the gateway', () => {
  it('passes everyone, remembering no one, until it is told to trust', async () => {
    const trust = createGatewayTrust({ bureau: BUREAU, now });
    expect(trust.trusting).toBe(false);
    expect(await trust.check(undefined)).toEqual({ ok: true, consumer: undefined });
    expect(trust.recentConsumers()).toEqual([]);
  });

  it('accepts an assertion for itself, through the gateway JWKS over HTTP, and remembers who asked', async () => {
    clock = T0;
    const trust = createGatewayTrust({ bureau: BUREAU, now });
    trust.trust({ jwksUrl: jwks.url });
    const check = await trust.check(await gateway.signConsumerAssertion(ASKED), { requestId: 'req-1' });
    expect(check).toMatchObject({ ok: true, consumer: { bureau: 'civil-affairs', app: 'allowance-review', agreements: ['agr-demo-allowance-identity'], requestId: 'req-1' } });
    expect(trust.recentConsumers()).toEqual([expect.objectContaining({ requestId: 'req-1', purpose: 'minimum-living-allowance-review' })]);
    // A request id that is not short and plain is not kept.
    const odd = await trust.check(await gateway.signConsumerAssertion(ASKED), { requestId: 'x'.repeat(129) });
    expect(odd).toMatchObject({ ok: true });
    expect(odd.ok && odd.consumer).not.toHaveProperty('requestId');
  });

  it('refuses a missing, forged or expired assertion with 401, one for another bureau with 403, each with its reason, remembering none', async () => {
    clock = T0;
    const trust = createGatewayTrust({ bureau: BUREAU, now });
    trust.trust({ keys: gateway.jwks.keys });
    expect(refused(await trust.check(undefined))).toEqual({ status: 401, code: 'UNAUTHENTICATED', reason: 'ASSERTION_MISSING' });
    expect(refused(await trust.check('not.a.jws'))).toMatchObject({ status: 401, reason: 'ASSERTION_MALFORMED' });
    const foreign = await gateway.signConsumerAssertion({ ...ASKED, provider: 'market-supervision' });
    expect(refused(await trust.check(foreign))).toEqual({ status: 403, code: 'FORBIDDEN', reason: 'ASSERTION_FOR_ANOTHER_BUREAU' });
    const forged = await impostor.signConsumerAssertion(ASKED);
    expect(refused(await trust.check(forged))).toMatchObject({ status: 401, reason: 'SIGNATURE_INVALID' });
    const old = await gateway.signConsumerAssertion(ASKED);
    clock = T0 + 10 * 60_000;
    expect(refused(await trust.check(old))).toMatchObject({ status: 401, reason: 'ASSERTION_EXPIRED' });
    expect(trust.recentConsumers()).toEqual([]);
  });

  it('does not serve a cached assertion past its exp', async () => {
    clock = T0;
    const trust = createGatewayTrust({ bureau: BUREAU, now });
    trust.trust({ keys: gateway.jwks.keys });
    const assertion = await gateway.signConsumerAssertion(ASKED);
    expect((await trust.check(assertion)).ok).toBe(true);
    clock = T0 + 30_000;
    expect((await trust.check(assertion)).ok).toBe(true);
    clock = T0 + 10 * 60_000;
    expect(refused(await trust.check(assertion)).reason).toBe('ASSERTION_EXPIRED');
  });

  it('forgets what it verified when the trusted keys change, and stops checking when trust is lifted', async () => {
    clock = T0;
    const trust = createGatewayTrust({ bureau: BUREAU, now });
    trust.trust({ keys: gateway.jwks.keys });
    const assertion = await gateway.signConsumerAssertion(ASKED);
    expect((await trust.check(assertion)).ok).toBe(true);
    trust.trust({ keys: impostor.jwks.keys });
    expect(refused(await trust.check(assertion)).reason).toBe('SIGNATURE_INVALID');
    trust.trust(undefined);
    expect(trust.trusting).toBe(false);
    expect(await trust.check(undefined)).toEqual({ ok: true, consumer: undefined });
  });

  it('answers 503 when the gateway keys cannot be fetched: not the caller’s fault', async () => {
    clock = T0;
    const down = await startJwksServer(gateway.jwks);
    down.setBehaviour('error');
    try {
      const trust = createGatewayTrust({ bureau: BUREAU, now });
      trust.trust({ jwksUrl: down.url });
      expect(refused(await trust.check(await gateway.signConsumerAssertion(ASKED)))).toEqual({ status: 503, code: 'UNAVAILABLE', reason: 'KEYS_UNAVAILABLE' });
    } finally {
      await down.close();
    }
  });

  it('keeps only the last N consumers, oldest first', async () => {
    clock = T0;
    const trust = createGatewayTrust({ bureau: BUREAU, now, recentConsumers: 3 });
    trust.trust({ keys: gateway.jwks.keys });
    for (const requestId of ['r1', 'r2', 'r3', 'r4', 'r5']) {
      expect((await trust.check(await gateway.assertionFor(ASKED), { requestId })).ok).toBe(true);
    }
    expect(trust.recentConsumers().map((consumer) => consumer.requestId)).toEqual(['r3', 'r4', 'r5']);
  });

  it('checks its options up front', () => {
    expect(() => createGatewayTrust({ bureau: '' })).toThrow(TypeError);
    expect(() => createGatewayTrust({ bureau: BUREAU, recentConsumers: 0 })).toThrow(TypeError);
    const trust = createGatewayTrust({ bureau: BUREAU });
    expect(() => trust.trust({ jwksUrl: 'not a url' })).toThrow();
    expect(trust.trusting).toBe(false);
  });
});

describe('trust on a bureau server', () => {
  it('can be given at start and lifted at run time, after which the bureau serves everyone again', async () => {
    clock = Date.now();
    const city = generateCity({ seed: 21, persons: 20, enterprises: 4 });
    const enterprise = city.enterprises[0]!;
    const bureau = await startMarketSupervision({ city, trustGateway: { keys: gateway.jwks.keys } });
    try {
      const get = (headers: Record<string, string> = {}) =>
        fetch(`${bureau.url}/enterprises/${enterprise.creditCode}`, { headers, signal: AbortSignal.timeout(5_000) });
      expect((await get()).status).toBe(401);
      const assertion = await gateway.signConsumerAssertion({ ...ASKED, provider: 'market-supervision' });
      const served = await get({ 'x-isthmus-consumer': assertion });
      expect(served.status).toBe(200);
      expect(await served.json()).toMatchObject({ creditCode: enterprise.creditCode });
      expect(bureau.recentConsumers().map((consumer) => consumer.provider)).toEqual(['market-supervision']);
      bureau.trustGateway(undefined);
      expect((await get()).status).toBe(200);
    } finally {
      await bureau.stop();
    }
  });

  it('cannot be given to a server started without a bureau id', async () => {
    const server = await startHttpBureau((_request, response) => response.end());
    try {
      expect(() => server.trustGateway({ keys: gateway.jwks.keys })).toThrow(/bureau id/);
      expect(server.recentConsumers()).toEqual([]);
    } finally {
      await server.stop();
    }
    await expect(startHttpBureau((_request, response) => response.end(), { trustGateway: { keys: gateway.jwks.keys } })).rejects.toThrow(/bureau id/);
  });
});

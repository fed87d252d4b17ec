import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../http/app.ts';
import { createLogger } from '../observability/logger.ts';
import { createMetrics } from '../observability/metrics.ts';
import { loadConfig } from '../config/config.ts';
import { authenticateRequest } from './authenticate-request.ts';
import { createConsumerAssertionVerifier } from './consumer-assertion.ts';
import { createGatewayAuth } from './create-gateway-auth.ts';
import { DEV_ISSUER } from './dev-issuer.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'isthmus-gateway-auth-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function appWith(wellKnown: Awaited<ReturnType<typeof createGatewayAuth>>['wellKnown']) {
  return createApp({ metrics: createMetrics(), log: createLogger('silent'), pingStore: async () => {}, breakers: () => new Map(), draining: () => false, ...wellKnown });
}

describe('createGatewayAuth', () => {
  it('with ISTHMUS_DEV_ISSUER on: trusts dev tokens and serves both key sets', async () => {
    const config = loadConfig({ ISTHMUS_DEV_ISSUER: 'true', ISTHMUS_KEYS_DIR: join(dir, 'on') });
    const auth = await createGatewayAuth(config);
    expect(auth.verifier.issuers).toEqual([DEV_ISSUER]);
    const token = await auth.devIssuer!.signDevToken({ bureau: 'market-supervision', app: 'licensing-portal', scopes: ['hrss.social-insurance'], ttl: '5m' });
    const principal = await authenticateRequest(new Headers({ authorization: `Bearer ${token}` }), auth.verifier);
    expect(principal).toMatchObject({ issuer: DEV_ISSUER, bureau: 'market-supervision', scopes: ['hrss.social-insurance'] });

    const app = appWith(auth.wellKnown);
    const devKeys = await app.request('/.well-known/jwks.json');
    expect(devKeys.status).toBe(200);
    expect(await devKeys.json()).toEqual(auth.devIssuer!.jwks);
    const gatewayKeys = await app.request('/.well-known/isthmus-gateway-jwks.json');
    expect(gatewayKeys.status).toBe(200);
    const served = (await gatewayKeys.json()) as { keys: { d?: string }[] };
    expect(served).toEqual(auth.consumerAssertions.jwks);
    expect(served.keys.every((key) => key.d === undefined)).toBe(true);

    // What a bureau fetches from that route verifies what the gateway signs.
    const assertion = await auth.consumerAssertions.signConsumerAssertion({ provider: 'hrss', bureau: 'market-supervision', app: 'licensing-portal', agreements: ['agr-1'] });
    expect((await createConsumerAssertionVerifier({ bureau: 'hrss', keys: served.keys }).verify(assertion)).agreements).toEqual(['agr-1']);

    // A second start with the same folder keeps both keys.
    const again = await createGatewayAuth(config);
    expect(again.devIssuer!.kid).toBe(auth.devIssuer!.kid);
    expect(again.consumerAssertions.kid).toBe(auth.consumerAssertions.kid);
  });

  it('with the dev issuer off: dev tokens are not trusted and /.well-known/jwks.json is 404', async () => {
    const keysDir = join(dir, 'off');
    const auth = await createGatewayAuth(loadConfig({ ISTHMUS_KEYS_DIR: keysDir }));
    expect(auth.devIssuer).toBeUndefined();
    const app = appWith(auth.wellKnown);
    expect((await app.request('/.well-known/jwks.json')).status).toBe(404);
    expect((await app.request('/.well-known/isthmus-gateway-jwks.json')).status).toBe(200);

    // A token from the dev issuer's key file is refused when the gateway does not turn it on.
    const on = await createGatewayAuth(loadConfig({ ISTHMUS_DEV_ISSUER: 'true', ISTHMUS_KEYS_DIR: keysDir }));
    const token = await on.devIssuer!.signDevToken({ bureau: 'hrss', app: 'portal', ttl: 60 });
    await expect(auth.verifier.verify(token)).rejects.toMatchObject({ code: 'ISSUER_UNKNOWN' });
  });
});

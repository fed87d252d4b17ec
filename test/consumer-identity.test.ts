import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONSUMER_ASSERTION_HEADER,
  openConsumerAssertionSigner,
  type ConsumerAssertion,
  type ConsumerAssertionInput,
  type ConsumerAssertionSigner,
} from '../gateway/auth/consumer-assertion.ts';
import { demoCity } from '../examples/data/generate-city.ts';
import { sampleResident } from '../examples/demo-city.ts';
import { DEMO_CONSUMERS } from '../examples/demo-agreements.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';

/**
 * Issue #3 item 11, end to end: every upstream call carries the consumer's
 * identity in `x-isthmus-consumer`, signed by the gateway, and the demo's
 * HTTP bureaus (which the test city makes trust the gateway) serve nothing
 * without it. Real bureaus, a real gateway, real signatures.
 */

const city = demoCity();
const me = sampleResident(city);
const myEnterprise = city.enterprises.find((enterprise) => enterprise.legalRepresentativeId === me.idNumber)!;
const { civilAffairs, citizenApp } = DEMO_CONSUMERS;
const REQUEST_TIMEOUT_MS = 10_000;

const PERSON_AND_ENTERPRISES = /* GraphQL */ `
  query($id: ID!) { person(idNumber: $id) { name enterprises { creditCode name registeredCapital } } }
`;

/** What a bureau was told in one request: the consumer claims, without the timestamps. */
function asked(consumer: ConsumerAssertion): Omit<ConsumerAssertion, 'issuedAt' | 'expiresAt'> {
  const { issuedAt: _issuedAt, expiresAt: _expiresAt, ...rest } = consumer;
  return rest;
}

describe('consumer identity, from the gateway to the bureaus', () => {
  let keysDir: string;
  let testCity: TestCity;
  /** The gateway's own key, opened from its key folder: assertions it signs are as genuine as the gateway's. */
  let gatewayKey: ConsumerAssertionSigner;
  /** A key the bureaus never heard of. */
  let forger: ConsumerAssertionSigner;

  beforeAll(async () => {
    keysDir = await mkdtemp(join(tmpdir(), 'isthmus-consumer-identity-'));
    testCity = await startTestCity({ ISTHMUS_KEYS_DIR: keysDir });
    gatewayKey = await openConsumerAssertionSigner({ keysDir });
    forger = await openConsumerAssertionSigner({ keysDir: undefined });
  }, 120_000);
  afterAll(async () => {
    await testCity?.close();
    if (keysDir) await rm(keysDir, { recursive: true, force: true });
  });

  const assertionFor = (provider: string, signer: ConsumerAssertionSigner = gatewayKey): Promise<string> => {
    const input: ConsumerAssertionInput = {
      provider,
      bureau: civilAffairs.bureau,
      app: civilAffairs.app,
      agreements: ['agr-demo-allowance-identity', 'agr-demo-allowance-enterprises'],
    };
    return signer.signConsumerAssertion(input);
  };

  const askPublicSecurity = (headers: Record<string, string> = {}) =>
    fetch(testCity.bureaus.publicSecurity.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: JSON.stringify({ query: 'query($id: ID!) { person(idNumber: $id) { name } }', variables: { id: me.idNumber } }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  const askMarketSupervision = (headers: Record<string, string> = {}) =>
    fetch(`${testCity.bureaus.marketSupervision.url}/enterprises/${myEnterprise.creditCode}`, {
      headers,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });

  it('tells each bureau a query reaches who asks, for what, under which of its agreements', async () => {
    const reply = await testCity.graphql(PERSON_AND_ENTERPRISES, { id: me.idNumber });
    expect(reply.status).toBe(200);
    expect(reply.body.errors).toBeUndefined();
    expect(reply.body.data.person.name).toBe(me.name);
    expect(reply.body.data.person.enterprises.map((enterprise: { creditCode: string }) => enterprise.creditCode)).toContain(myEnterprise.creditCode);

    const requestId = reply.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    for (const [bureau, server, agreement] of [
      ['public-security', testCity.bureaus.publicSecurity, 'agr-demo-allowance-identity'],
      ['market-supervision', testCity.bureaus.marketSupervision, 'agr-demo-allowance-enterprises'],
    ] as const) {
      const seen = server.recentConsumers().filter((consumer) => consumer.requestId === requestId);
      expect(seen.length, `${bureau} saw the request`).toBeGreaterThan(0);
      for (const consumer of seen) {
        expect(asked(consumer)).toEqual({
          provider: bureau,
          requestId,
          bureau: civilAffairs.bureau,
          app: civilAffairs.app,
          user: 'he.fang@civil-affairs',
          purpose: civilAffairs.purpose,
          // Its own agreement only: not the ones the consumer holds with other bureaus.
          agreements: [agreement],
        });
        expect(consumer.expiresAt).toBeGreaterThan(consumer.issuedAt);
      }
    }
  });

  it('signs once for a consumer’s repeated requests: each bureau checks one signature, and learns every request id', async () => {
    const bureaus = [testCity.bureaus.publicSecurity, testCity.bureaus.marketSupervision];
    // A case id of its own makes the statement new to every bureau.
    const caseHeaders = (caseId: string) => ({ ...testCity.reviewer, 'x-isthmus-case-id': caseId });
    const verifiedBefore = bureaus.map((bureau) => bureau.assertionsVerified());
    const requestIds: string[] = [];
    for (let round = 0; round < 5; round += 1) {
      const reply = await testCity.graphql(PERSON_AND_ENTERPRISES, { id: me.idNumber }, caseHeaders('GUARD-0001'));
      expect(reply.body.errors).toBeUndefined();
      requestIds.push(reply.headers.get('x-request-id')!);
    }
    expect(bureaus.map((bureau, index) => bureau.assertionsVerified() - verifiedBefore[index]!)).toEqual([1, 1]);
    for (const bureau of bureaus) {
      const seen = bureau.recentConsumers().filter((consumer) => consumer.caseId === 'GUARD-0001');
      expect(seen.map((consumer) => consumer.requestId)).toEqual(requestIds);
    }
    // Another case is another statement: signed and checked once more.
    await testCity.graphql(PERSON_AND_ENTERPRISES, { id: me.idNumber }, caseHeaders('GUARD-0002'));
    expect(bureaus.map((bureau, index) => bureau.assertionsVerified() - verifiedBefore[index]!)).toEqual([2, 2]);
  });

  it('a bureau called directly, without an assertion → 401 and no data, in its own error shape', async () => {
    const graphql = await askPublicSecurity();
    expect(graphql.status).toBe(401);
    const graphqlBody = await graphql.json();
    expect(graphqlBody.data).toBeUndefined();
    expect(graphqlBody.errors).toEqual([expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED', reason: 'ASSERTION_MISSING' } })]);
    expect(JSON.stringify(graphqlBody)).not.toContain(me.name);

    const rest = await askMarketSupervision();
    expect(rest.status).toBe(401);
    const restBody = await rest.json();
    expect(restBody).toEqual({ error: { code: 'UNAUTHENTICATED', reason: 'ASSERTION_MISSING', message: expect.any(String) } });
  });

  it('an assertion the gateway signed for this bureau is accepted directly: the key below is the real one', async () => {
    const graphql = await askPublicSecurity({ [CONSUMER_ASSERTION_HEADER]: await assertionFor('public-security') });
    expect(graphql.status).toBe(200);
    expect(await graphql.json()).toEqual({ data: { person: { name: me.name } } });
    const rest = await askMarketSupervision({ [CONSUMER_ASSERTION_HEADER]: await assertionFor('market-supervision') });
    expect(rest.status).toBe(200);
    expect(await rest.json()).toMatchObject({ creditCode: myEnterprise.creditCode });
  });

  it('an assertion signed for another bureau (replayed here) → 403 ASSERTION_FOR_ANOTHER_BUREAU', async () => {
    const graphql = await askPublicSecurity({ [CONSUMER_ASSERTION_HEADER]: await assertionFor('market-supervision') });
    expect(graphql.status).toBe(403);
    const graphqlBody = await graphql.json();
    expect(graphqlBody.data).toBeUndefined();
    expect(graphqlBody.errors[0].extensions).toEqual({ code: 'FORBIDDEN', reason: 'ASSERTION_FOR_ANOTHER_BUREAU' });

    const rest = await askMarketSupervision({ [CONSUMER_ASSERTION_HEADER]: await assertionFor('public-security') });
    expect(rest.status).toBe(403);
    expect((await rest.json()).error).toMatchObject({ code: 'FORBIDDEN', reason: 'ASSERTION_FOR_ANOTHER_BUREAU' });
  });

  it('an assertion signed with another key → 401 SIGNATURE_INVALID', async () => {
    const graphql = await askPublicSecurity({ [CONSUMER_ASSERTION_HEADER]: await assertionFor('public-security', forger) });
    expect(graphql.status).toBe(401);
    const graphqlBody = await graphql.json();
    expect(graphqlBody.data).toBeUndefined();
    expect(graphqlBody.errors[0].extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'SIGNATURE_INVALID' });

    const rest = await askMarketSupervision({ [CONSUMER_ASSERTION_HEADER]: await assertionFor('market-supervision', forger) });
    expect(rest.status).toBe(401);
    expect((await rest.json()).error).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'SIGNATURE_INVALID' });
  });

  it('a bureau whose only field in the query is denied receives no call at all', async () => {
    const citizen = await testCity.citizen(me.idNumber);
    const market = testCity.bureaus.marketSupervision;
    const before = { calls: market.requestCount(), consumers: market.recentConsumers() };

    const reply = await testCity.graphql(PERSON_AND_ENTERPRISES, { id: me.idNumber }, citizen);
    // No status asserted: whether a partial denial is a 200 is enforcement's business (test/enforcement.test.ts).
    expect(reply.body.data.person.name).toBe(me.name);
    expect(reply.body.errors?.map((error) => error.extensions.code)).toContain('FORBIDDEN');
    expect(reply.body.errors?.map((error) => error.path?.join('.'))).toContain('person.enterprises');

    expect(market.requestCount()).toBe(before.calls);
    expect(market.recentConsumers()).toEqual(before.consumers);
    // The bureau that was allowed heard from the citizen app, and was told so.
    const requestId = reply.headers.get('x-request-id');
    const seen = testCity.bureaus.publicSecurity.recentConsumers().filter((consumer) => consumer.requestId === requestId);
    expect(seen.map((consumer) => [consumer.bureau, consumer.app, consumer.agreements])).toEqual(
      seen.map(() => [citizenApp.bureau, citizenApp.app, ['agr-demo-self-service']]),
    );
    expect(seen.length).toBeGreaterThan(0);
  });
});

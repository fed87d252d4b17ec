import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCity, type TestCity } from './support/test-city.ts';
import { countingCalls, NO_CALLS } from './support/upstream-calls.ts';

// The test client is 127.0.0.1, made a trusted proxy so each test speaks for its own forwarded address.
let city: TestCity;
beforeAll(async () => {
  city = await startTestCity({
    ISTHMUS_AUTH_THROTTLE_FAILURES: '3',
    ISTHMUS_AUTH_THROTTLE_PENALTY_SECONDS: '1',
    ISTHMUS_MAX_COST: '300',
    ISTHMUS_TRUSTED_PROXIES: '127.0.0.1',
  });
}, 60_000);
afterAll(() => city?.close());

const PERSON = '330402199001011234';

function forged(headers: Readonly<Record<string, string>>): Record<string, string> {
  const token = headers.authorization!;
  return { ...headers, authorization: token.slice(0, -3) + (token.endsWith('AAA') ? 'BBB' : 'AAA') };
}

describe('failed-authentication throttle', () => {
  it('refuses an address that kept failing, a good token too, with retry-after, and lets it in once the penalty ends', async () => {
    const from = { 'x-forwarded-for': '198.51.100.7' };
    for (let i = 0; i < 3; i++) {
      const reply = await city.graphql('{ __typename }', {}, { ...forged(city.reviewer), ...from });
      expect(reply.status).toBe(401);
    }
    const refused = await city.graphql('{ __typename }', {}, { ...city.reviewer, ...from });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', reason: 'AUTH_THROTTLED' });
    expect(JSON.stringify(refused.body)).not.toContain(city.reviewer.authorization!.slice(7));

    // Another address, behind the same trusted proxy, is not throttled.
    expect((await city.graphql('{ __typename }', {}, { ...city.reviewer, 'x-forwarded-for': '198.51.100.8' })).status).toBe(200);

    let after = refused;
    for (let tries = 0; tries < 50 && after.status === 429; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await city.graphql('{ __typename }', {}, { ...city.reviewer, ...from });
    }
    expect(after.status).toBe(200);
  });

  it('throttles the admin API by the same count', async () => {
    const headers = { ...forged(city.reviewer), 'x-forwarded-for': '198.51.100.9' };
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`${city.gateway.url}/admin/api/agreements`, { headers })).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const good = await fetch(`${city.gateway.url}/admin/api/agreements`, { headers: { ...city.reviewer, 'x-forwarded-for': '198.51.100.9' } });
    expect(good.status).toBe(429);
    expect(good.headers.get('retry-after')).toBe('1');
    expect((await good.json()).errors[0].extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', reason: 'AUTH_THROTTLED' });
  });

  it('does not count requests without a token', async () => {
    const from = { 'x-forwarded-for': '198.51.100.10' };
    for (let i = 0; i < 4; i++) expect((await city.graphql('{ __typename }', {}, { ...from, authorization: '' })).status).toBe(401);
    expect((await city.graphql('{ __typename }', {}, { ...city.reviewer, ...from })).status).toBe(200);
  });
});

describe('operation cost limit', () => {
  it('refuses a wide nested list query before any bureau is called', async () => {
    const ids = Array.from({ length: 40 }, () => `"${PERSON}"`).join(', ');
    const { result, calls } = await countingCalls(city, () => city.graphql(`{ persons(idNumbers: [${ids}]) { name address enterprises { name registeredCapital } } }`));
    expect(calls).toEqual(NO_CALLS);
    expect(result.body.data).toBeUndefined();
    expect(result.body.errors?.[0]?.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', reason: 'COST_LIMIT', cost: 40 * (1 + 2 + 10 * 3), max: 300 });
  });

  it('serves a query within the limit', async () => {
    const reply = await city.graphql(`{ persons(idNumbers: ["${PERSON}"]) { name enterprises { name } } }`);
    expect(reply.body.errors?.find((error) => error.extensions.reason === 'COST_LIMIT')).toBeUndefined();
  });
});

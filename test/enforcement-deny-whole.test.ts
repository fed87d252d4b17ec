import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCity } from '../examples/data/generate-city.ts';
import { sampleResident } from '../examples/demo-city.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';
import { bearer, countingCalls, HRSS, NO_CALLS } from './support/upstream-calls.ts';

/**
 * `ISTHMUS_DENY_WHOLE_OPERATION=true`: a deployment that wants no partial
 * results. Any denied field refuses the whole operation with a 403, no data,
 * and not one call to any bureau.
 */

const city = demoCity();
const me = sampleResident(city);
const other = city.persons.find((person) => person.idNumber !== me.idNumber)!;
const myEnterprise = city.enterprises.find((enterprise) => enterprise.legalRepresentativeId === me.idNumber)!;

describe('a gateway that refuses the whole operation on any denial', () => {
  let testCity: TestCity;
  let marketSupervision: Record<string, string>;
  let citizen: Record<string, string>;

  beforeAll(async () => {
    testCity = await startTestCity({ ISTHMUS_DENY_WHOLE_OPERATION: 'true' });
    marketSupervision = bearer(await testCity.token({ bureau: 'market-supervision', app: 'licensing-portal', user: 'qian.li@market-supervision', roles: ['developer'], ttl: '1h' }));
    citizen = await testCity.citizen(me.idNumber);
  }, 120_000);
  afterAll(async () => {
    await testCity?.close();
  });

  it('one denied field among allowed ones → 403, no data, no bureau called', async () => {
    const { result: reply, calls } = await countingCalls(testCity, () =>
      testCity.graphql(
        'query($id: ID!) { person(idNumber: $id) { idNumber name enterprises { name registeredCapital } socialInsurance { insuredStatus } } }',
        { id: me.idNumber },
        marketSupervision,
      ),
    );
    expect(reply.status).toBe(403);
    expect(reply.body.data ?? null).toBeNull();
    const text = JSON.stringify(reply.body);
    expect(text).not.toContain(me.name);
    expect(text).not.toContain(myEnterprise.name);
    expect(calls).toEqual(NO_CALLS);
    const errors = reply.body.errors!;
    for (const error of errors) expect(error.extensions.code).toBe('FORBIDDEN');
    const byPath = new Map(errors.map((error) => [error.path!.join('.'), error.extensions]));
    expect(byPath.get('person.name')).toMatchObject({ fields: ['Person.name'], bureau: 'public-security', reason: 'NO_AGREEMENT' });
    expect(byPath.get('person.socialInsurance')).toMatchObject({ fields: ['Person.socialInsurance'], bureau: HRSS, reason: 'NO_AGREEMENT' });
    // The developer still learns what to ask for.
    expect(byPath.get('person.name')!.wouldAllow.request).toMatchObject({ consumerBureau: 'market-supervision', providerBureau: 'public-security' });
  });

  it('explain, asked about the same operation, says DENIED: it follows the same enforcer', async () => {
    const query = 'query($id: ID!) { person(idNumber: $id) { idNumber name } }';
    const reply = await testCity.graphql(query, { id: me.idNumber }, marketSupervision);
    expect(reply.status).toBe(403);
    const explained = await fetch(`${testCity.gateway.url}/admin/api/explain`, {
      method: 'POST',
      headers: { ...marketSupervision, 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables: { id: me.idNumber } }),
    });
    expect(explained.status).toBe(200);
    const { explain: report } = await explained.json();
    // Person.idNumber alone would be released with partial results; here nothing is.
    expect(report.outcome).toBe('DENIED');
    expect(report.fields).toContainEqual(expect.objectContaining({ path: 'person.name', decision: 'deny', reason: 'NO_AGREEMENT' }));
  });

  it('a NONE field → 403, no bureau called', async () => {
    const { result: reply, calls } = await countingCalls(testCity, () =>
      testCity.graphql('query($id: ID!) { person(idNumber: $id) { idNumber name householdId } }', { id: me.idNumber }),
    );
    expect(reply.status).toBe(403);
    expect(reply.body.data ?? null).toBeNull();
    expect(reply.body.errors).toEqual([
      expect.objectContaining({ path: ['person', 'householdId'], extensions: expect.objectContaining({ code: 'FORBIDDEN', reason: 'NONE_CATEGORY' }) }),
    ]);
    expect(calls).toEqual(NO_CALLS);
  });

  it('a denial reached only through a fragment under @include → 403', async () => {
    const { result: reply, calls } = await countingCalls(testCity, () =>
      testCity.graphql(
        `query($code: ID!, $more: Boolean!) { enterprise(creditCode: $code) { name ...Staff @include(if: $more) } }
         fragment Staff on Enterprise { insuredEmployeeCount }`,
        { code: myEnterprise.creditCode, more: true },
        marketSupervision,
      ),
    );
    expect(reply.status).toBe(403);
    expect(reply.body.data ?? null).toBeNull();
    expect(reply.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', fields: ['Enterprise.insuredEmployeeCount'], reason: 'NO_AGREEMENT' });
    expect(calls).toEqual(NO_CALLS);
  });

  it('a citizen reaching for someone else → 403, no bureau called', async () => {
    const { result: reply, calls } = await countingCalls(testCity, () =>
      testCity.graphql('query($ids: [ID!]!) { persons(idNumbers: $ids) { name } }', { ids: [me.idNumber, other.idNumber] }, citizen),
    );
    expect(reply.status).toBe(403);
    expect(reply.body.data ?? null).toBeNull();
    expect(reply.body.errors?.[0]).toMatchObject({ path: ['persons'], extensions: { code: 'FORBIDDEN', reason: 'SELF_SCOPE' } });
    expect(calls).toEqual(NO_CALLS);
  });

  it('nothing denied → 200 with all the data, as without the setting', async () => {
    const { result: reply, calls } = await countingCalls(testCity, () =>
      testCity.graphql('query($id: ID!) { person(idNumber: $id) { name address enterprises { creditCode } } }', { id: me.idNumber }),
    );
    expect(reply.status).toBe(200);
    expect(reply.body.errors).toBeUndefined();
    expect(reply.body.data.person.name).toBe(me.name);
    expect(me.address.startsWith(reply.body.data.person.address)).toBe(true);
    expect(reply.body.data.person.enterprises).toContainEqual({ creditCode: myEnterprise.creditCode });
    expect(calls).toEqual({ ...NO_CALLS, 'public-security': 1, 'market-supervision': 1 });

    const fragments = await testCity.graphql(
      `query($code: ID!, $more: Boolean!) { enterprise(creditCode: $code) { name ...Staff @include(if: $more) } }
       fragment Staff on Enterprise { insuredEmployeeCount }`,
      { code: myEnterprise.creditCode, more: false },
      marketSupervision,
    );
    expect(fragments.status).toBe(200);
    expect(fragments.body).toEqual({ data: { enterprise: { name: myEnterprise.name } } });
  });
});

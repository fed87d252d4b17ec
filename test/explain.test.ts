import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleResident } from '../examples/demo-city.ts';
import { CASE_ID_HEADER, PURPOSE_HEADER } from '../policies/request-purpose.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';
import { DEMO_CONSUMERS } from '../examples/demo-agreements.ts';

const resident = sampleResident();
const QUERY = `query($id: ID!) { person(idNumber: $id) { name householdId socialInsurance { monthlyBase } enterprises { name } } }`;

describe('explain: what a query needs, before it is run', () => {
  let testCity: TestCity;
  let developer: Record<string, string>;
  beforeAll(async () => {
    testCity = await startTestCity();
    const token = await testCity.token({ bureau: 'transport', app: 'taxi-licensing', user: 'gao.yu@transport', roles: ['developer'], ttl: '1h' });
    developer = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  });
  afterAll(async () => {
    await testCity?.close();
  });

  const explain = (body: unknown, headers: Record<string, string>) =>
    fetch(`${testCity.gateway.url}/admin/api/explain`, { method: 'POST', headers, body: JSON.stringify(body) });

  it('reports each field with its bureau, category, decision and the agreement used', async () => {
    const response = await explain({ query: QUERY, variables: { id: resident.idNumber } }, { ...testCity.reviewer, 'content-type': 'application/json' });
    expect(response.status).toBe(200);
    const { explain: report } = await response.json();
    expect(report.purpose).toBe('minimum-living-allowance-review');
    expect(report.outcome).toBe('PARTIAL');
    const byPath = Object.fromEntries(report.fields.map((field: { path: string }) => [field.path, field]));
    expect(byPath['person']).toMatchObject({ decision: 'entry-point', bureau: 'public-security' });
    expect(byPath['person.name']).toMatchObject({ coordinate: 'Person.name', bureau: 'public-security', category: 'CONDITIONAL', decision: 'allow', agreementId: 'agr-demo-allowance-identity' });
    expect(byPath['person.householdId']).toMatchObject({ category: 'NONE', decision: 'deny', reason: 'NONE_CATEGORY' });
    expect(byPath['person.socialInsurance.monthlyBase']).toMatchObject({ bureau: 'human-resources-social-security', decision: 'allow', agreementId: 'agr-demo-allowance-insurance' });
    expect(byPath['person.enterprises.name']).toMatchObject({ category: 'OPEN', decision: 'allow' });
    expect(report.agreementsUsed).toEqual(['agr-demo-allowance-enterprises', 'agr-demo-allowance-identity', 'agr-demo-allowance-insurance']);
    expect(report.missing).toEqual([]);
  });

  it('names the agreements a developer without any must request, one per providing bureau', async () => {
    const response = await explain({ query: QUERY, variables: { id: resident.idNumber }, purpose: 'taxi-driver-vetting' }, developer);
    const { explain: report } = await response.json();
    // Every data field is conditional or under one: nothing would be released.
    expect(report.outcome).toBe('DENIED');
    const providers = report.missing.map((request: { providerBureau: string }) => request.providerBureau).sort();
    expect(providers).toEqual(['human-resources-social-security', 'market-supervision', 'public-security']);
    const identity = report.missing.find((request: { providerBureau: string }) => request.providerBureau === 'public-security');
    expect(identity).toMatchObject({ consumerBureau: 'transport', consumerApp: 'taxi-licensing', fields: ['Person.name'], suggestedMasks: { 'Person.name': 'NAME' }, rowScope: 'ANY' });
    // A NONE field is never offered as something to request.
    expect(JSON.stringify(report.missing)).not.toContain('householdId');
  });

  it('turns what is missing into DRAFT requests the developer can then submit', async () => {
    const response = await explain(
      { query: QUERY, variables: { id: resident.idNumber }, purpose: 'taxi-driver-vetting', draft: { legalBasis: '《网络预约出租汽车经营服务管理暂行办法》第十四条：驾驶员背景核查' } },
      developer,
    );
    expect(response.status).toBe(201);
    const body = await response.json();
    expect(body.drafts).toHaveLength(3);
    for (const draft of body.drafts) {
      expect(draft).toMatchObject({ status: 'DRAFT', consumerBureau: 'transport', consumerApp: 'taxi-licensing', purpose: 'taxi-driver-vetting', requestedBy: 'gao.yu@transport' });
      const stored = await fetch(`${testCity.gateway.url}/admin/api/agreements/${draft.id}`, { headers: developer });
      expect((await stored.json()).events.map((event: { action: string }) => event.action)).toEqual(['CREATE']);
    }
  });

  it('names a draft already filed instead of filing it again, and a submitted one as pending with its id', async () => {
    // An app of its own, so that no other test's drafts are in the way.
    const token = await testCity.token({ bureau: 'transport', app: 'ride-hailing-vetting', user: 'lu.chen@transport', roles: ['developer'], ttl: '1h' });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const body = {
      query: `query($id: ID!) { person(idNumber: $id) { name } }`,
      variables: { id: resident.idNumber },
      purpose: 'ride-hailing-driver-vetting',
      draft: { legalBasis: '《网络预约出租汽车经营服务管理暂行办法》第十四条' },
    };
    const first = await explain(body, headers);
    expect(first.status).toBe(201);
    const [draft] = (await first.json()).drafts;
    expect(draft).toMatchObject({ status: 'DRAFT', providerBureau: 'public-security', fields: ['Person.name'] });

    const second = await explain(body, headers);
    expect(second.status).toBe(200);
    const again = await second.json();
    expect(again.drafts).toEqual([]);
    expect(again.explain.missing).toEqual([]);
    expect(again.explain.underway).toEqual([
      { agreementId: draft.id, status: 'DRAFT', providerBureau: 'public-security', purpose: 'ride-hailing-driver-vetting', scope: draft.scope, fields: ['Person.name'] },
    ]);
    const name = again.explain.fields.find((field: { path: string }) => field.path === 'person.name');
    expect(name).toMatchObject({ decision: 'deny', reason: 'AGREEMENT_NOT_ACTIVE', wouldAllow: { agreementId: draft.id } });
    const listed = await fetch(`${testCity.gateway.url}/admin/api/agreements?consumer=transport&provider=public-security&status=DRAFT`, { headers });
    expect((await listed.json()).agreements.filter((agreement: { consumerApp: string }) => agreement.consumerApp === 'ride-hailing-vetting')).toHaveLength(1);

    const submitted = await fetch(`${testCity.gateway.url}/admin/api/agreements/${draft.id}/submit`, { method: 'POST', headers, body: '{}' });
    expect(submitted.status).toBe(200);
    const third = await (await explain(body, headers)).json();
    expect(third.drafts).toEqual([]);
    expect(third.explain.underway).toMatchObject([{ agreementId: draft.id, status: 'PENDING' }]);
    expect(third.explain.fields.find((field: { path: string }) => field.path === 'person.name')).toMatchObject({
      reason: 'AGREEMENT_NOT_ACTIVE',
      message: expect.stringContaining(`${draft.id} for Person.name is PENDING`),
    });
  });

  it('says when an agreement in force exists but the token lacks its scope', async () => {
    const { civilAffairs } = DEMO_CONSUMERS;
    const token = await testCity.token({ bureau: civilAffairs.bureau, app: civilAffairs.app, user: 'he.fang@civil-affairs', roles: ['developer'], ttl: '1h' });
    const response = await explain({ query: `query($id: ID!) { person(idNumber: $id) { name } }`, variables: { id: resident.idNumber }, purpose: civilAffairs.purpose }, {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
    });
    const { explain: report } = await response.json();
    expect(report.outcome).toBe('DENIED');
    expect(report.missing).toEqual([]);
    expect(report.scopeMissing).toEqual([
      { agreementId: 'agr-demo-allowance-identity', status: 'ACTIVE', providerBureau: 'public-security', purpose: civilAffairs.purpose, scope: civilAffairs.scope, fields: ['Person.name'] },
    ]);
    expect(report.fields.find((field: { path: string }) => field.path === 'person.name')).toMatchObject({ reason: 'SCOPE_MISSING' });
  });

  it('refuses a query that does not validate, naming the problem', async () => {
    const response = await explain({ query: '{ person(idNumber: "1") { nickname } }' }, developer);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ errors: [{ message: expect.stringContaining('nickname'), extensions: { code: 'BAD_USER_INPUT', field: 'query' } }] });
  });

  it('accepts and refuses a purpose or case id exactly as /graphql does: the same rule, in one place', async () => {
    const cases: readonly [Record<string, string>, 'malformed' | 'sound'][] = [
      [{ [PURPOSE_HEADER]: 'minimum-living-allowance-review' }, 'sound'],
      [{ [PURPOSE_HEADER]: 'Minimum Living Allowance' }, 'malformed'],
      [{ [PURPOSE_HEADER]: 'x'.repeat(65) }, 'malformed'],
      [{ [PURPOSE_HEADER]: '-leading-dash' }, 'malformed'],
      [{ [CASE_ID_HEADER]: 'MZ-2026-00017' }, 'sound'],
      [{ [CASE_ID_HEADER]: 'case 17' }, 'malformed'],
    ];
    for (const [headers, kind] of cases) {
      const graphql = await testCity.graphql(QUERY, { id: resident.idNumber }, { ...testCity.reviewer, ...headers });
      const explained = await explain({ query: QUERY, variables: { id: resident.idNumber } }, { ...testCity.reviewer, ...headers, 'content-type': 'application/json' });
      const expected = kind === 'malformed' ? 400 : 200;
      expect({ headers, graphql: graphql.status, explain: explained.status }).toEqual({ headers, graphql: expected, explain: expected });
      if (kind === 'malformed') expect(codeOf(await explained.json())).toBe('BAD_USER_INPUT');
    }
    // explain's body may state the purpose instead of the header; the rule is the same.
    const inBody = await explain({ query: QUERY, variables: { id: resident.idNumber }, purpose: 'Minimum Living Allowance' }, developer);
    expect(inBody.status).toBe(400);
    expect(codeOf(await inBody.json())).toBe('BAD_USER_INPUT');
  });

  it('needs a token', async () => {
    const response = await explain({ query: '{ __typename }' }, { 'content-type': 'application/json' });
    expect(response.status).toBe(401);
  });
});

/** The code of an admin API refusal: `{ error: { code } }`, or `{ errors: [{ extensions: { code } }] }` as /graphql answers. */
function codeOf(body: { error?: { code?: string }; errors?: { extensions?: { code?: string } }[] }): string | undefined {
  return body.error?.code ?? body.errors?.[0]?.extensions?.code;
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCity } from '../examples/data/generate-city.ts';
import { sampleResident } from '../examples/demo-city.ts';
import { DEMO_CONSUMERS } from '../examples/demo-agreements.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';
import { bearer } from './support/upstream-calls.ts';

/**
 * Issue 13, "Authorization edges", end to end through a real gateway with
 * real tokens: what probing as an attacker found, each now refused or
 * recorded. A bureau's own reads need a role and are in the access log;
 * the issuer's purpose and case id win over headers; separation of duties
 * knows `ZHAO.QIANG` is `zhao.qiang`.
 */

const city = demoCity();
const me = sampleResident(city);
const { civilAffairs } = DEMO_CONSUMERS;
const OWN_READ = 'query($id: ID!) { person(idNumber: $id) { householdId name address } }';

describe('authorization edges, end to end', () => {
  let testCity: TestCity;

  beforeAll(async () => {
    testCity = await startTestCity();
  }, 120_000);
  afterAll(async () => {
    await testCity?.close();
  });

  const post = async (query: string, variables: Record<string, unknown>, headers: Record<string, string>) => {
    const response = await fetch(`${testCity.gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(20_000),
    });
    return { status: response.status, requestId: response.headers.get('x-request-id') ?? '', body: (await response.json()) as any };
  };
  const entriesOf = (requestId: string) => testCity.gateway.store.db.selectFrom('access_log').selectAll().where('request_id', '=', requestId).execute();

  describe('a bureau’s own reads', () => {
    it('a token without a role reads nothing of its own bureau, and the attempt is logged', async () => {
      // The probe: public security, any app, no role, no scope, no purpose.
      const roleless = bearer(await testCity.token({ bureau: 'public-security', app: 'any-app', ttl: '10m' }));
      const reply = await post(OWN_READ, { id: me.idNumber }, roleless);
      expect(reply.body.data).toEqual({ person: { householdId: null, name: null, address: null } });
      expect(reply.body.errors.map((error: any) => [error.path.join('.'), error.extensions.code, error.extensions.reason])).toEqual([
        ['person.householdId', 'FORBIDDEN', 'NO_ROLE'],
        ['person.name', 'FORBIDDEN', 'NO_ROLE'],
        ['person.address', 'FORBIDDEN', 'NO_ROLE'],
      ]);
      expect(JSON.stringify(reply.body)).not.toContain(me.name);
      const [entry, ...more] = await entriesOf(reply.requestId);
      expect(more).toEqual([]);
      expect(entry).toMatchObject({ consumer_bureau: 'public-security', client_app: 'any-app', outcome: 'DENIED', fields_returned: [] });
    });

    it('with a role it reads its own personal data in clear, and the read is in the access log like any other', async () => {
      const staff = bearer(await testCity.token({ bureau: 'public-security', app: 'household-registry', user: 'wang.lei@public-security', roles: ['developer'], ttl: '10m' }));
      const reply = await post(OWN_READ, { id: me.idNumber }, staff);
      expect(reply.body.errors).toBeUndefined();
      expect(reply.body.data.person.name).toBe(me.name);
      const [entry, ...more] = await entriesOf(reply.requestId);
      expect(more).toEqual([]);
      expect(entry).toMatchObject({ consumer_bureau: 'public-security', user_id: 'wang.lei@public-security', outcome: 'ALLOWED' });
      expect(entry!.fields_returned.map((field) => field.coordinate).sort()).toEqual(['Person.address', 'Person.householdId', 'Person.name']);
      expect(entry!.provider_bureaus).toEqual(['public-security']);
    });
  });

  describe('headers never override the issuer', () => {
    const reviewer = (claims: { purpose?: string; caseId?: string }) =>
      testCity.token({ bureau: civilAffairs.bureau, app: civilAffairs.app, user: 'he.fang@civil-affairs', roles: ['developer'], scopes: [civilAffairs.scope], ttl: '10m', ...claims });
    const NAME = 'query($id: ID!) { person(idNumber: $id) { name } }';

    it('refuses a purpose or case id header that disagrees with the token’s claim, before any bureau is called', async () => {
      const claimed = bearer(await reviewer({ purpose: civilAffairs.purpose, caseId: 'MZ-2026-00123' }));
      const purpose = await post(NAME, { id: me.idNumber }, { ...claimed, 'x-isthmus-purpose': 'tax-review' });
      expect(purpose.status).toBe(400);
      expect(purpose.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'PURPOSE_CONFLICT' });
      const caseId = await post(NAME, { id: me.idNumber }, { ...claimed, 'x-isthmus-case-id': 'MZ-2026-99999' });
      expect(caseId.status).toBe(400);
      expect(caseId.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CASE_ID_CONFLICT' });
      expect(purpose.body.data ?? null).toBeNull();
    });

    it('records the token’s case id; a header repeating it, or a header alone where the token has none, still works', async () => {
      const claimed = bearer(await reviewer({ purpose: civilAffairs.purpose, caseId: 'MZ-2026-00123' }));
      const repeated = await post(NAME, { id: me.idNumber }, { ...claimed, 'x-isthmus-purpose': civilAffairs.purpose, 'x-isthmus-case-id': 'MZ-2026-00123' });
      expect(repeated.body.data.person.name).toBe(me.name);
      expect((await entriesOf(repeated.requestId))[0]).toMatchObject({ case_id: 'MZ-2026-00123', purpose: civilAffairs.purpose });
      const bare = bearer(await reviewer({}));
      const alone = await post(NAME, { id: me.idNumber }, { ...bare, 'x-isthmus-purpose': civilAffairs.purpose, 'x-isthmus-case-id': 'MZ-2026-00777' });
      expect(alone.body.data.person.name).toBe(me.name);
      expect((await entriesOf(alone.requestId))[0]).toMatchObject({ case_id: 'MZ-2026-00777' });
    });
  });

  describe('separation of duties through the admin API', () => {
    const admin = async (headers: Record<string, string>, method: string, path: string, body?: unknown) => {
      const response = await fetch(`${testCity.gateway.url}/admin/api${path}`, {
        method,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(20_000),
      });
      return { status: response.status, body: (await response.json()) as any };
    };

    it('ZHAO.QIANG may not approve zhao.qiang’s request; another officer may', async () => {
      const requester = bearer(await testCity.token({ bureau: 'housing-fund', app: 'loan-review', user: 'zhao.qiang', roles: ['developer'], ttl: '10m' }));
      const created = await admin(requester, 'POST', '/agreements', {
        consumerApp: 'loan-review',
        providerBureau: 'public-security',
        fields: ['Person.name'],
        purpose: 'housing-loan-review',
        legalBasis: '《住房公积金管理条例》第二十六条',
        rowScope: 'ANY',
        validFrom: new Date().toISOString(),
        validUntil: new Date(Date.now() + 90 * 86_400_000).toISOString(),
        submit: true,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const id = created.body.agreement.id;
      const sameInCapitals = bearer(await testCity.token({ bureau: 'public-security', app: 'isthmus-console', user: 'ZHAO.QIANG', roles: ['data_officer'], ttl: '10m' }));
      const refused = await admin(sameInCapitals, 'POST', `/agreements/${id}/approve`, {});
      expect(refused.status).toBe(403);
      expect(refused.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', rule: 'SEPARATION_OF_DUTIES' });
      const other = bearer(await testCity.token({ bureau: 'public-security', app: 'isthmus-console', user: 'li.officer', roles: ['data_officer'], ttl: '10m' }));
      const approved = await admin(other, 'POST', `/agreements/${id}/approve`, {});
      expect(approved.status, JSON.stringify(approved.body)).toBe(200);
      expect(approved.body.agreement).toMatchObject({ status: 'ACTIVE', requestedBy: 'zhao.qiang', approvedBy: 'li.officer' });
    });
  });
});

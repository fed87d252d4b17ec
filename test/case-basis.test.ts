import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoCity } from '../examples/data/generate-city.ts';
import { sampleResident } from '../examples/demo-city.ts';
import { DEMO_CONSUMERS } from '../examples/demo-agreements.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';
import { describeEachStore } from './support/describe-each-store.ts';
import { waitFor } from './support/wait-for.ts';
import { HRSS } from './support/upstream-calls.ts';
import { adminCall } from './support/admin-call.ts';
import { housingFundPeople, insuredStatusRequest } from './support/housing-fund-requests.ts';

/**
 * Case ids and legal bases end to end, on a running gateway with real
 * signed tokens: a requester proposes an agreement that requires a case id
 * of a format (a format that could backtrack is refused, naming the field),
 * the provider's data officer approves it, and a read under it is refused
 * without a case id (`CASE_ID_REQUIRED`) or with one of another format
 * (`CASE_ID_FORMAT`), and served with a matching one, whose log entry
 * records the agreement's legal basis.
 */

const city = demoCity();
const me = sampleResident(city);
const { housingFund } = DEMO_CONSUMERS;
const SCOPE = 'hf.case-read';
const LEGAL_BASIS = '《住房公积金管理条例》第二十六条';
const QUERY = 'query($id: ID!) { person(idNumber: $id) { socialInsurance { insuredStatus } } }';

describeEachStore('case ids and legal bases on a running gateway, store on $name', (target) => {
  let testCity: TestCity;
  let developer: Record<string, string>;
  let officer: Record<string, string>;
  let reader: Record<string, string>;

  const admin = (method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: unknown) => adminCall(testCity.gateway.url, method, path, headers, body);
  const request = (caseId: unknown) => insuredStatusRequest(SCOPE, LEGAL_BASIS, { caseId });

  beforeAll(async () => {
    testCity = await startTestCity({}, { store: target });
    ({ developer, officer, reader } = await housingFundPeople(testCity, SCOPE));
  }, 120_000);
  afterAll(async () => {
    await testCity?.close();
  });

  it('refuses a format that could backtrack or is not anchored, naming caseId.format', async () => {
    for (const format of ['^(\\d+)+$', 'GA-\\d{6}', '^GA|MZ$']) {
      const refused = await admin('POST', '/agreements', developer, request({ required: true, format }));
      expect(refused.status).toBe(400);
      expect(refused.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'caseId.format' });
    }
    const notTrue = await admin('POST', '/agreements', developer, request({ required: false }));
    expect(notTrue.status).toBe(400);
    expect(notTrue.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'caseId.required' });
    const stray = await admin('POST', '/agreements', developer, request({ required: true, pattern: '^x$' }));
    expect(stray.status).toBe(400);
  });

  it('without a case id → CASE_ID_REQUIRED; another format → CASE_ID_FORMAT; a matching one → served, logged with the legal basis', async () => {
    const format = '^GJJ-\\d{4}-\\d{6}$';
    const proposed = await admin('POST', '/agreements', developer, request({ required: true, format }));
    expect(proposed.status).toBe(201);
    const id: string = proposed.body.agreement.id;
    expect(proposed.body.agreement).toMatchObject({ status: 'PENDING', caseId: { required: true, format } });
    // The officer sees the term they approve.
    const seen = await admin('GET', `/agreements/${id}`, officer);
    expect(seen.body.agreement.caseId).toEqual({ required: true, format });
    const approved = await admin('POST', `/agreements/${id}/approve`, officer, { version: seen.body.agreement.version });
    expect(approved.status).toBe(200);

    const refusal = async (headers: Record<string, string>): Promise<{ message?: string; extensions?: unknown } | undefined> => {
      const reply = await testCity.graphql(QUERY, { id: me.idNumber }, { ...reader, ...headers });
      return reply.body.errors?.find((error) => error.path?.join('.') === 'person.socialInsurance');
    };
    const forbiddenReason = async (headers: Record<string, string>): Promise<unknown> => (await refusal(headers))?.extensions;
    await waitFor(async () => ((await forbiddenReason({})) as { reason?: string } | undefined)?.reason === 'CASE_ID_REQUIRED', { what: 'the approval reaches the gateway' });
    const none = (await forbiddenReason({})) as Record<string, unknown>;
    expect(none).toMatchObject({ code: 'FORBIDDEN', reason: 'CASE_ID_REQUIRED', wouldAllow: { agreementId: id, caseId: { format } } });
    expect((await refusal({}))?.message).toContain(`agreement ${id}`);
    const other = await forbiddenReason({ 'x-isthmus-case-id': 'MZ-2026-00123' });
    expect(other).toMatchObject({ code: 'FORBIDDEN', reason: 'CASE_ID_FORMAT' });
    expect(JSON.stringify(await refusal({ 'x-isthmus-case-id': 'MZ-2026-00123' }))).not.toContain('MZ-2026-00123');

    // Explain says what the read lacks, before it is run, and that a matching case id mends it.
    const explained = await admin('POST', '/explain', reader, { query: QUERY, variables: { id: me.idNumber } });
    expect(explained.status).toBe(200);
    expect(explained.body.explain.caseIdNeeded).toEqual([{ agreementId: id, status: 'ACTIVE', providerBureau: HRSS, purpose: housingFund.purpose, scope: SCOPE, fields: ['Person.socialInsurance', 'SocialInsurance.insuredStatus'], caseId: { format } }]);
    const explainedWith = await admin('POST', '/explain', { ...reader, 'x-isthmus-case-id': 'GJJ-2026-000042' }, { query: QUERY, variables: { id: me.idNumber } });
    expect(explainedWith.body.explain).toMatchObject({ outcome: 'ALLOWED', caseIdNeeded: [] });

    const served = await testCity.graphql(QUERY, { id: me.idNumber }, { ...reader, 'x-isthmus-case-id': 'GJJ-2026-000042' });
    expect(served.status).toBe(200);
    expect(served.body.errors).toBeUndefined();
    expect(served.body.data.person.socialInsurance).not.toBeNull();

    const requestId = served.headers.get('x-request-id')!;
    const db = testCity.gateway.store.db;
    await waitFor(async () => (await db.selectFrom('access_log').select('id').where('request_id', '=', requestId).execute()).length === 1, { what: 'the entry is committed' });
    const row = await db.selectFrom('access_log').selectAll().where('request_id', '=', requestId).executeTakeFirstOrThrow();
    expect(row.case_id).toBe('GJJ-2026-000042');
    expect(row.agreement_ids).toEqual([id]);
    expect(row.agreements_used).toEqual([{ id, legalBasis: LEGAL_BASIS, purpose: housingFund.purpose }]);
  });
});

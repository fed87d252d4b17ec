import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoCity } from '../examples/data/generate-city.ts';
import { sampleResident } from '../examples/demo-city.ts';
import { DEMO_CONSUMERS } from '../examples/demo-agreements.ts';
import { manifestToJson, operationHashOf } from '../gateway/operations/operation-manifest.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';
import { describeEachStore } from './support/describe-each-store.ts';
import { bearer, countingCalls, HRSS } from './support/upstream-calls.ts';
import { runCliCaptured } from './support/run-cli-captured.ts';
import { waitFor } from './support/wait-for.ts';
import { adminCall } from './support/admin-call.ts';
import { housingFundPeople, insuredStatusRequest } from './support/housing-fund-requests.ts';

/**
 * Agreement-pinned operations end to end, on a running gateway with a
 * registered manifest and real signed tokens: the housing fund's loan-review
 * app registered three documents; its developer requests an agreement
 * pinning two of them (a hash the app has not registered is refused, naming
 * it; the console's form offers the registered ones to tick); the data
 * officer sees the pinned documents in `agreements show` and on the
 * console's agreement page, and approves. A pinned document reads; the other
 * is FORBIDDEN `OPERATION_NOT_PINNED` naming the agreement, the providing
 * bureau is never asked, nothing is released, and the refusal is in the
 * access log and in `explain`.
 */

const city = demoCity();
const me = sampleResident(city);
const { housingFund } = DEMO_CONSUMERS;
const SCOPE = 'hf.pinned-read';
const PINNED = 'query InsuredStatus($id: ID!) {\n  person(idNumber: $id) { socialInsurance { insuredStatus } }\n}';
const OTHER = 'query InsuredStatusAgain($id: ID!) {\n  person(idNumber: $id) { socialInsurance { insuredStatus } }\n}';
/** A document whose text would steer a terminal if printed raw. */
const STEERING = 'query Steering($id: ID!) {\n  # \u001b[2J\u001b[8m hidden\n  person(idNumber: $id) { socialInsurance { insuredStatus } }\n}';

describeEachStore('agreement-pinned operations on a running gateway, store on $name', (target) => {
  let testCity: TestCity;
  let dir: string;
  let developer: Record<string, string>;
  let officerToken: string;
  let reader: Record<string, string>;
  let agreementId: string;

  const admin = (method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: unknown) => adminCall(testCity.gateway.url, method, path, headers, body);

  /** A console visitor signed in through the persona picker as `persona`: fetches a page with its cookies. */
  async function consoleAs(persona: string): Promise<(path: string, init?: RequestInit) => Promise<{ status: number; html: string }>> {
    const cookies = new Map<string, string>();
    const page = async (path: string, init: RequestInit = {}) => {
      const response = await fetch(`${testCity.gateway.url}${path}`, {
        ...init,
        redirect: 'manual',
        headers: { 'accept-language': 'zh-CN', cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '), ...(init.headers as Record<string, string>) },
      });
      for (const line of response.headers.getSetCookie()) {
        const [name, value] = line.split(';')[0]!.split('=') as [string, string];
        cookies.set(name, value);
      }
      return { status: response.status, html: await response.text() };
    };
    const csrf = /name="_csrf" value="([^"]*)"/.exec((await page('/console/sign-in')).html)?.[1] ?? '';
    const picked = await page('/console/sign-in/persona', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, persona }).toString() });
    expect(picked.status).toBe(303);
    return page;
  }

  const request = (operations: unknown) => insuredStatusRequest(SCOPE, '《住房公积金管理条例》第二十六条', { operations });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'isthmus-pinned-'));
    mkdirSync(join(dir, housingFund.bureau));
    const manifest = new Map([PINNED, OTHER, STEERING].map((document) => [operationHashOf(document), document] as const));
    writeFileSync(join(dir, housingFund.bureau, `${housingFund.app}.json`), JSON.stringify(manifestToJson(manifest)));
    testCity = await startTestCity({ ISTHMUS_OPERATIONS_DIR: dir }, { store: target });
    ({ developer, officerToken, reader } = await housingFundPeople(testCity, SCOPE));
  }, 120_000);
  afterAll(async () => {
    await testCity?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a pin the app has not registered, an empty list and a malformed hash, each naming the field', async () => {
    const unknown = operationHashOf('{ person(idNumber: "1") { name } }');
    const refused = await admin('POST', '/agreements', developer, request([operationHashOf(PINNED), unknown]));
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'operations[1]' });
    expect(refused.body.errors[0].message).toContain(unknown);
    expect(refused.body.errors[0].message).toContain(`${housingFund.bureau}/${housingFund.app}`);
    const empty = await admin('POST', '/agreements', developer, request([]));
    expect(empty.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'operations' });
    const malformed = await admin('POST', '/agreements', developer, request(['sha256:1234']));
    expect(malformed.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'operations[0]' });
    const notAList = await admin('POST', '/agreements', developer, request('sha256:1234'));
    expect(notAList.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'operations' });
    expect((await admin('GET', '/agreements?status=PENDING', developer)).body.agreements.filter((a: { scope: string }) => a.scope === SCOPE)).toEqual([]);
  });

  it('requests a pinned agreement from the CLI with --operation, repeatable', async () => {
    const developerToken = developer.authorization!.slice('Bearer '.length);
    const requested = await runCliCaptured(
      [
        'agreements', 'request',
        '--provider', HRSS,
        '--app', housingFund.app,
        '--fields', 'Person.socialInsurance,SocialInsurance.insuredStatus',
        '--purpose', housingFund.purpose,
        '--legal-basis', '《住房公积金管理条例》第二十六条',
        '--row-scope', 'ANY',
        '--scope', 'hf.pinned-cli',
        '--until', new Date(Date.now() + 30 * 86_400_000).toISOString(),
        '--operation', operationHashOf(PINNED),
        '--operation', operationHashOf(OTHER),
        '--url', testCity.gateway.url,
        '--json',
      ],
      { ISTHMUS_TOKEN: developerToken },
    );
    expect(requested.code, requested.stderr).toBe(0);
    expect(JSON.parse(requested.stdout).agreement).toMatchObject({ status: 'DRAFT', operations: [operationHashOf(PINNED), operationHashOf(OTHER)] });
    const unregistered = await runCliCaptured(['agreements', 'request', '--provider', HRSS, '--app', 'another-app', '--fields', 'Person.socialInsurance', '--purpose', housingFund.purpose, '--legal-basis', '《住房公积金管理条例》第二十六条', '--row-scope', 'ANY', '--until', new Date(Date.now() + 30 * 86_400_000).toISOString(), '--operation', operationHashOf(PINNED), '--url', testCity.gateway.url], { ISTHMUS_TOKEN: developerToken });
    expect(unregistered.code).toBe(1);
    expect(unregistered.stderr).toMatch(/^BAD_USER_INPUT: operations\[0\] \(sha256:[0-9a-f]{64}\) is not registered for housing-fund\/another-app.*\(field operations\[0\]\)\n$/);
  });

  it('shows the officer each pinned document: the admin API, agreements show (neutralized), the console page', async () => {
    // Pinned by the hex digest in capitals, without the prefix: stored as the gateway writes hashes.
    const proposed = await admin('POST', '/agreements', developer, request([operationHashOf(PINNED).slice(7).toUpperCase(), operationHashOf(STEERING)]));
    expect(proposed.status).toBe(201);
    agreementId = proposed.body.agreement.id;
    expect(proposed.body.agreement.operations).toEqual([operationHashOf(PINNED), operationHashOf(STEERING)]);

    const seen = await admin('GET', `/agreements/${agreementId}`, bearer(officerToken));
    expect(seen.body.pinnedOperations).toEqual([
      { hash: operationHashOf(PINNED), names: ['InsuredStatus'], document: PINNED },
      { hash: operationHashOf(STEERING), names: ['Steering'], document: STEERING },
    ]);

    const shown = await runCliCaptured(['agreements', 'show', agreementId, '--url', testCity.gateway.url], { ISTHMUS_TOKEN: officerToken });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`pinned operations (2):\n  ${operationHashOf(PINNED)}  InsuredStatus\n    | query InsuredStatus($id: ID!) {\n    |   person(idNumber: $id) { socialInsurance { insuredStatus } }\n    | }\n`);
    expect(shown.stdout).toContain('    |   # \\u001b[2J\\u001b[8m hidden\n');
    expect(shown.stdout).not.toContain('\u001b');

    // The console's agreement page, fetched as the provider's data officer signed in through the persona picker.
    const page = await consoleAs('hrss-officer');
    const view = await page(`/console/agreements/${agreementId}`);
    expect(view.status).toBe(200);
    expect(view.html).toContain('限定的查询（2 个）');
    expect(view.html).toContain('<strong>InsuredStatus</strong>');
    expect(view.html).toContain(`<code>${operationHashOf(PINNED)}</code>`);
    expect(view.html).toContain('aria-label="查询文档"><pre><code>query InsuredStatus($id: ID!) {\n  person(idNumber: $id) { socialInsurance { insuredStatus } }\n}</code></pre>');
    expect(view.html).not.toContain('\u001b');
    const english = await page(`/console/agreements/${agreementId}`, { headers: { 'accept-language': 'en' } });
    expect(english.html).toContain('Pinned operations (2)');
    expect(english.html).toContain('role="region" tabindex="0" aria-label="Document"><pre>');
  });

  it("offers the requester the app's registered operations to tick, by name and first line, and refuses a tick the app has not registered", async () => {
    const page = await consoleAs('housing-fund-developer');
    const form = await page('/console/requests/new');
    expect(form.status).toBe(200);
    expect(form.html).toContain(`name="operation:${operationHashOf(PINNED)}"`);
    expect(form.html).toContain('<strong>InsuredStatus</strong> <code>query InsuredStatus($id: ID!) {</code>');
    expect(form.html).toContain(`应用 ${housingFund.app}`);
    const csrf = /name="_csrf" value="([^"]*)"/.exec(form.html)?.[1] ?? '';
    const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
    const fields = {
      _csrf: csrf,
      consumerApp: 'another-app',
      'field:Person.socialInsurance': 'on',
      'field:SocialInsurance.insuredStatus': 'on',
      purpose: housingFund.purpose,
      legalBasis: '《住房公积金管理条例》第二十六条',
      rowScope: 'ANY',
      validFrom: today,
      validUntil: `${Number(today.slice(0, 4)) + 1}${today.slice(4)}`,
      [`operation:${operationHashOf(PINNED)}`]: 'on',
      action: 'submit',
    };
    const refused = await page('/console/requests', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
    expect(refused.status).toBe(400);
    expect(refused.html).toContain('is not registered for housing-fund/another-app');
    // What was ticked stays ticked.
    expect(refused.html).toContain(`name="operation:${operationHashOf(PINNED)}" value="on" checked`);
  });

  it('reads with the pinned document; the other is FORBIDDEN OPERATION_NOT_PINNED naming the agreement, never reaches the providing bureau, releases nothing, and is logged', async () => {
    const seen = await admin('GET', `/agreements/${agreementId}`, bearer(officerToken));
    const approved = await admin('POST', `/agreements/${agreementId}/approve`, bearer(officerToken), { version: seen.body.agreement.version });
    expect(approved.status).toBe(200);

    await waitFor(async () => (await testCity.graphql(PINNED, { id: me.idNumber }, reader)).body.errors === undefined, { what: 'the approval reaches the gateway' });
    const served = await testCity.graphql(PINNED, { id: me.idNumber }, reader);
    expect(served.status).toBe(200);
    expect(served.body.data.person.socialInsurance.insuredStatus).toBeTypeOf('string');

    // The same document sent by its hash alone runs as registered, and is pinned too.
    const byHash = await fetch(`${testCity.gateway.url}/graphql`, {
      method: 'POST',
      headers: { ...reader, 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ documentId: operationHashOf(PINNED), variables: { id: me.idNumber } }),
    }).then(async (response) => (await response.json()) as any);
    expect(byHash.errors).toBeUndefined();
    expect(byHash.data.person.socialInsurance.insuredStatus).toBeTypeOf('string');

    const { result: refused, calls } = await countingCalls(testCity, () => testCity.graphql(OTHER, { id: me.idNumber }, reader));
    // The social security bureau is never asked (public security still answers the person lookup, an entry point).
    expect(calls[HRSS]).toBe(0);
    expect(refused.body.data?.person?.socialInsurance ?? null).toBeNull();
    const error = refused.body.errors?.find((candidate) => candidate.path?.join('.') === 'person.socialInsurance');
    expect(error?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'OPERATION_NOT_PINNED', wouldAllow: { agreementId, operations: [operationHashOf(PINNED), operationHashOf(STEERING)] } });
    expect(error?.message).toContain(`agreement ${agreementId}`);
    expect(error?.message).toContain(operationHashOf(OTHER));
    expect(error?.message).toContain('one of its 2 pinned operations');

    const requestId = refused.headers.get('x-request-id')!;
    const db = testCity.gateway.store.db;
    await waitFor(async () => (await db.selectFrom('access_log').select('id').where('request_id', '=', requestId).execute()).length === 1, { what: 'the refusal is committed' });
    const row = await db.selectFrom('access_log').selectAll().where('request_id', '=', requestId).executeTakeFirstOrThrow();
    expect(row.outcome).toBe('DENIED');
    expect(row.fields_returned).toEqual([]);
    expect(row.agreement_ids).toEqual([]);
    expect(row.operation_hash).toBe(operationHashOf(OTHER).slice('sha256:'.length));
    expect(row.denied).toEqual(expect.arrayContaining([expect.objectContaining({ coordinate: 'Person.socialInsurance', reason: 'OPERATION_NOT_PINNED' })]));

    // explain says the same, before a line of code is run.
    const explained = await admin('POST', '/explain', reader, { query: OTHER, variables: { id: me.idNumber } });
    expect(explained.body.explain.fields).toEqual(expect.arrayContaining([expect.objectContaining({ coordinate: 'Person.socialInsurance', decision: 'deny', reason: 'OPERATION_NOT_PINNED' })]));
  });

  it('shows a pinned document no app registers any more as such, in the admin API, the CLI and the console, and refuses to approve it', async () => {
    const pending = await admin('POST', '/agreements', developer, insuredStatusRequest('hf.pinned-later', '《住房公积金管理条例》第二十六条', { operations: [operationHashOf(STEERING)] }));
    expect(pending.status).toBe(201);
    const operator = bearer(await testCity.token({ bureau: 'big-data-bureau', app: 'ops', user: 'ops.lin@big-data-bureau', roles: ['operator'], ttl: '1h' }));
    const manifest = manifestToJson(new Map([PINNED, OTHER].map((document) => [operationHashOf(document), document] as const)));
    const replaced = await fetch(`${testCity.gateway.url}/admin/api/operations/${housingFund.bureau}/${housingFund.app}`, { method: 'PUT', headers: { ...operator, 'content-type': 'application/json' }, body: JSON.stringify({ manifest }) });
    expect(replaced.status).toBe(200);

    const seen = await admin('GET', `/agreements/${agreementId}`, bearer(officerToken));
    expect(seen.body.pinnedOperations[1]).toEqual({ hash: operationHashOf(STEERING), names: [] });
    const shown = await runCliCaptured(['agreements', 'show', agreementId, '--url', testCity.gateway.url], { ISTHMUS_TOKEN: officerToken });
    expect(shown.stdout).toContain(`  ${operationHashOf(STEERING)}  (not registered any more)\n`);
    const view = await (await consoleAs('hrss-officer'))(`/console/agreements/${agreementId}`);
    expect(view.html).toContain('已不再登记：网关中没有此哈希的查询文档。');
    const approval = await admin('POST', `/agreements/${pending.body.agreement.id}/approve`, bearer(officerToken), {});
    expect(approval.status).toBe(409);
    expect(approval.body.errors[0].message).toContain(`operations[0] (${operationHashOf(STEERING)}) is not registered`);
    // The pinned document still registered still reads.
    expect((await testCity.graphql(PINNED, { id: me.idNumber }, reader)).body.errors).toBeUndefined();
  });
});

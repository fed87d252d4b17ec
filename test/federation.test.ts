import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCity } from '../examples/data/generate-city.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';
import { waitFor } from './support/wait-for.ts';

const city = demoCity();
const HRSS = 'human-resources-social-security';

/** A person who represents at least one enterprise and has a social insurance account. */
const subject = city.persons.find(
  (person) =>
    city.enterprises.some((enterprise) => enterprise.legalRepresentativeId === person.idNumber) &&
    city.insuranceAccounts.some((account) => account.idNumber === person.idNumber),
)!;

const THREE_BUREAUS = /* GraphQL */ `
  query PersonAcrossBureaus($id: ID!) {
    person(idNumber: $id) {
      name
      socialInsurance { insuredStatus contributionMonths }
      enterprises { creditCode name insuredEmployeeCount }
    }
  }
`;

async function upstreamCalls(testCity: TestCity, bureau: string): Promise<number> {
  const metric = await testCity.gateway.metrics.registry.getSingleMetric('isthmus_upstream_calls_total')!.get();
  return metric.values.filter((value) => value.labels.bureau === bureau).reduce((sum, value) => sum + value.value, 0);
}

describe('the federated demo city', () => {
  let testCity: TestCity;
  beforeAll(async () => {
    testCity = await startTestCity();
  });
  afterAll(async () => {
    await testCity?.close();
  });

  it('reads three bureaus of three kinds in one query', async () => {
    const reply = await testCity.graphql(THREE_BUREAUS, { id: subject.idNumber });
    expect(reply.status).toBe(200);
    expect(reply.body.errors).toBeUndefined();
    const account = city.insuranceAccounts.find((each) => each.idNumber === subject.idNumber)!;
    const enterprises = city.enterprises.filter((enterprise) => enterprise.legalRepresentativeId === subject.idNumber);
    const person = reply.body.data.person;
    expect(person.name).toBe(subject.name);
    expect(person.socialInsurance).toEqual({ insuredStatus: account.insuredStatus, contributionMonths: account.contributionMonths });
    expect(person.enterprises.map((enterprise: { creditCode: string }) => enterprise.creditCode).sort()).toEqual(
      enterprises.map((enterprise) => enterprise.creditCode).sort(),
    );
    for (const enterprise of person.enterprises) {
      expect(enterprise.name).toBe(city.enterprises.find((each) => each.creditCode === enterprise.creditCode)!.name);
      expect(typeof enterprise.insuredEmployeeCount).toBe('number');
    }
  });

  it('serves null for someone nobody registered', async () => {
    const reply = await testCity.graphql(THREE_BUREAUS, { id: '110101190001011009' });
    expect(reply.body).toEqual({ data: { person: null } });
  });

  it('hides merge-only entry points and the Isthmus directives from clients', async () => {
    const reply = await testCity.graphql('{ __schema { queryType { fields { name } } directives { name } } }');
    const fields = reply.body.data.__schema.queryType.fields.map((field: { name: string }) => field.name).sort();
    expect(fields).toEqual(['enterprise', 'enterprises', 'person', 'persons']);
    const directives = reply.body.data.__schema.directives.map((directive: { name: string }) => directive.name);
    expect(directives).not.toContain('share');
    expect(directives).not.toContain('sql');
    expect(directives).not.toContain('http');
  });

  it('costs one upstream call per bureau for a list of 100 persons, not 100', async () => {
    const ids = city.persons.slice(0, 100).map((person) => person.idNumber);
    const before = {
      ps: testCity.bureaus.publicSecurity.requestCount(),
      ms: testCity.bureaus.marketSupervision.requestCount(),
      hrss: await upstreamCalls(testCity, HRSS),
    };
    const reply = await testCity.graphql(
      'query($ids: [ID!]!) { persons(idNumbers: $ids) { idNumber name socialInsurance { contributionMonths } enterprises { name } } }',
      { ids },
    );
    expect(reply.body.errors).toBeUndefined();
    expect(reply.body.data.persons).toHaveLength(100);
    expect(reply.body.data.persons.map((person: { idNumber: string }) => person.idNumber)).toEqual(ids);
    expect(reply.body.data.persons.filter((person: { socialInsurance: unknown }) => person.socialInsurance !== null).length).toBeGreaterThan(50);
    expect(testCity.bureaus.publicSecurity.requestCount() - before.ps).toBe(1);
    expect(testCity.bureaus.marketSupervision.requestCount() - before.ms).toBe(1);
    expect((await upstreamCalls(testCity, HRSS)) - before.hrss).toBe(1);
  });

  it('keeps the cost per bureau independent of the list length when entities nest', async () => {
    const query = 'query($ids: [ID!]!) { persons(idNumbers: $ids) { name enterprises { name insuredEmployeeCount } } }';
    const costs: number[] = [];
    for (const size of [10, 100]) {
      const ids = city.persons.slice(0, size).map((person) => person.idNumber);
      const before = testCity.bureaus.marketSupervision.requestCount() + testCity.bureaus.publicSecurity.requestCount() + (await upstreamCalls(testCity, HRSS));
      const reply = await testCity.graphql(query, { ids });
      expect(reply.body.errors).toBeUndefined();
      costs.push(testCity.bureaus.marketSupervision.requestCount() + testCity.bureaus.publicSecurity.requestCount() + (await upstreamCalls(testCity, HRSS)) - before);
    }
    // persons → public-security, enterprises → market-supervision, their counts → the SQL bureau: one call each, whatever the length.
    expect(costs).toEqual([3, 3]);
  });

  it('answers health, readiness and metrics, with a request id on every response', async () => {
    const health = await fetch(`${testCity.gateway.url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const ready = await fetch(`${testCity.gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      store: 'ok',
      draining: false,
      bureaus: { [HRSS]: { breaker: 'closed' }, 'market-supervision': { breaker: 'closed' }, 'public-security': { breaker: 'closed' } },
    });
    const metrics = await (await fetch(`${testCity.gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/isthmus_http_requests_total\{route="\/graphql",status="200"\} \d+/);
    expect(metrics).toContain('isthmus_http_request_duration_seconds_bucket');
    expect(metrics).toMatch(/isthmus_upstream_calls_total\{bureau="market-supervision",outcome="ok"\} \d+/);
    expect(metrics).toContain('isthmus_upstream_breaker_state{bureau="public-security"} 0');
    // The cross-bureau reads above were logged: committed transactions, and how many entries each carried.
    expect(Number(/isthmus_access_log_transactions_total\{outcome="committed"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/isthmus_access_log_batch_entries_bucket\{le="1"\} \d+/);
    expect(metrics).not.toMatch(/isthmus_access_log_transactions_total\{outcome="failed"\} [1-9]/);
  });

  it('keeps a sane caller request id and logs the request under it as JSON', async () => {
    const reply = await testCity.graphql('{ __typename }', undefined, { ...testCity.reviewer, 'x-request-id': 'case-2026-0042' });
    expect(reply.headers.get('x-request-id')).toBe('case-2026-0042');
    // The request line is written once the response has gone: wait for it, not for a time.
    await waitFor(() => testCity.logs.some((line) => line.requestId === 'case-2026-0042' && line.msg === 'request'), { what: 'the request is logged' });
    expect(testCity.logs).toContainEqual(expect.objectContaining({ requestId: 'case-2026-0042', path: '/graphql', status: 200, msg: 'request' }));
    const odd = await testCity.graphql('{ __typename }', undefined, { ...testCity.reviewer, 'x-request-id': 'x'.repeat(500) });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs a refused field as an answer, not as an error', async () => {
    const before = testCity.logs.length;
    const reply = await testCity.graphql('query($id: ID!) { person(idNumber: $id) { name householdId } }', { id: subject.idNumber });
    expect(reply.body.errors?.map((error) => error.extensions.code)).toEqual(['FORBIDDEN']);
    const requestId = reply.headers.get('x-request-id');
    await waitFor(() => testCity.logs.slice(before).some((line) => line.requestId === requestId && line.msg === 'request'), { what: 'the request is logged' });
    const lines = testCity.logs.slice(before);
    expect(lines).toContainEqual(expect.objectContaining({ path: '/graphql', status: 200, msg: 'request' }));
    expect(lines.filter((line) => line.level === 'error' || line.level === 'warn')).toEqual([]);
  });

  it('serves GraphiQL to a browser on /graphql', async () => {
    const response = await fetch(`${testCity.gateway.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('<title>Isthmus</title>');
    expect(html.toLowerCase()).toContain('graphiql');
  });
});

describe('bad input', () => {
  let testCity: TestCity;
  beforeAll(async () => {
    testCity = await startTestCity({ ISTHMUS_MAX_DEPTH: '2' });
  });
  afterAll(async () => {
    await testCity?.close();
  });

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${testCity.gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...testCity.reviewer, ...headers }, body });

  async function expectClientError(response: Response, status: number, code: string): Promise<Record<string, any>> {
    expect(response.status).toBe(status);
    const text = await response.text();
    expect(text).not.toMatch(/\n\s+at |stack|node_modules|\.ts:\d+/);
    const body = JSON.parse(text);
    expect(body.errors[0].extensions.code).toBe(code);
    expect(body.errors[0].extensions.requestId).toBe(response.headers.get('x-request-id'));
    return body;
  }

  it('malformed JSON → 400 BAD_USER_INPUT', async () => {
    await expectClientError(await post('{"query": "{ __typename }"'), 400, 'BAD_USER_INPUT');
  });

  // Below, a client that names no media type is answered application/json: GraphQL over HTTP then has a document
  // that does not parse or validate, or variables that do not coerce, answered 200 (test/graphql-over-http.test.ts has both media types).
  it('a query that does not parse → 200 BAD_USER_INPUT', async () => {
    const body = await expectClientError(await post(JSON.stringify({ query: '{ person(idNumber: "1") { name ' })), 200, 'BAD_USER_INPUT');
    expect(body.errors[0].message).toMatch(/Syntax Error/);
  });

  it('an unknown field → 200 BAD_USER_INPUT naming the field', async () => {
    const body = await expectClientError(await post(JSON.stringify({ query: '{ person(idNumber: "1") { nickname } }' })), 200, 'BAD_USER_INPUT');
    expect(body.errors[0].message).toContain('nickname');
  });

  it('a wrong variable type → 200 BAD_USER_INPUT without echoing the value', async () => {
    const response = await post(JSON.stringify({ query: 'query($ids: [ID!]!) { persons(idNumbers: $ids) { name } }', variables: { ids: { secret: subject.idNumber } } }));
    const body = await expectClientError(response, 200, 'BAD_USER_INPUT');
    expect(JSON.stringify(body)).not.toContain(subject.idNumber);
  });

  it('a huge body → 413 LIMIT_EXCEEDED, before it is read', async () => {
    const huge = JSON.stringify({ query: `{ __typename }`, variables: { pad: 'x'.repeat(2 * 1_048_576) } });
    await expectClientError(await post(huge), 413, 'LIMIT_EXCEEDED');
  });

  it('a method other than GET and POST → 405', async () => {
    const response = await fetch(`${testCity.gateway.url}/graphql`, { method: 'PUT', body: '{}', headers: testCity.reviewer });
    await expectClientError(response, 405, 'BAD_USER_INPUT');
    expect(response.headers.get('allow')).toBe('GET, POST, OPTIONS');
  });

  it('an operation nested too deep → 200 LIMIT_EXCEEDED, fragments counted', async () => {
    // This city allows depth 2 (ISTHMUS_MAX_DEPTH below).
    expect((await post(JSON.stringify({ query: '{ persons(idNumbers: []) { name } }' }))).status).toBe(200);
    const deep = 'query Q { ...A } fragment A on Query { persons(idNumbers: []) { ...B } } fragment B on Person { enterprises { name } }';
    const body = await expectClientError(await post(JSON.stringify({ query: deep })), 200, 'LIMIT_EXCEEDED');
    expect(body.errors[0].extensions).toMatchObject({ limit: 'depth', max: 2 });
  });

  it('too many aliases → 200 LIMIT_EXCEEDED', async () => {
    const aliases = Array.from({ length: 31 }, (_, index) => `a${index}: __typename`).join(' ');
    const body = await expectClientError(await post(JSON.stringify({ query: `{ ${aliases} }` })), 200, 'LIMIT_EXCEEDED');
    expect(body.errors[0].extensions).toMatchObject({ limit: 'aliases', max: 30 });
  });

  it('unknown routes → 404 JSON', async () => {
    const response = await fetch(`${testCity.gateway.url}/nowhere`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'NOT_FOUND', requestId: response.headers.get('x-request-id') } }] });
  });
});

describe('a bureau that fails', () => {
  let testCity: TestCity;
  let schemasDir: string;
  beforeAll(async () => {
    // Short timeouts and a quick breaker, so the test does not wait for production settings.
    schemasDir = mkdtempSync(join(tmpdir(), 'isthmus-schemas-'));
    cpSync(fileURLToPath(new URL('../schemas', import.meta.url)), schemasDir, { recursive: true });
    for (const bureau of ['public-security', 'market-supervision', HRSS]) {
      const file = join(schemasDir, bureau, 'manifest.json');
      const manifest = JSON.parse(readFileSync(file, 'utf8'));
      manifest.connector.timeoutMs = 300;
      manifest.connector.breaker = { failureThreshold: 2, resetAfterMs: 600 };
      writeFileSync(file, JSON.stringify(manifest));
    }
    testCity = await startTestCity({ ISTHMUS_SCHEMAS_DIR: schemasDir });
  });
  afterAll(async () => {
    await testCity?.close();
    rmSync(schemasDir, { recursive: true, force: true });
  });

  it('a bureau killed mid-test: its fields are null with UPSTREAM_UNAVAILABLE, the others intact; then it comes back', async () => {
    await testCity.bureaus.marketSupervision.stop();
    try {
      const reply = await testCity.graphql(THREE_BUREAUS, { id: subject.idNumber });
      expect(reply.status).toBe(200);
      expect(reply.body.data.person.name).toBe(subject.name);
      expect(reply.body.data.person.socialInsurance).not.toBeNull();
      expect(reply.body.data.person.enterprises).toBeNull();
      expect(reply.body.errors).toEqual([
        expect.objectContaining({
          path: ['person', 'enterprises'],
          extensions: expect.objectContaining({ code: 'UPSTREAM_UNAVAILABLE', bureau: 'market-supervision' }),
        }),
      ]);
      expect(JSON.stringify(reply.body.errors)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|stack/);
    } finally {
      await testCity.bureaus.marketSupervision.start();
    }
    const healed = await testCity.graphql(THREE_BUREAUS, { id: subject.idNumber });
    expect(healed.body.errors).toBeUndefined();
    expect(healed.body.data.person.enterprises.length).toBeGreaterThan(0);
  });

  it('a slow bureau trips its timeout, then its breaker, which recovers', async () => {
    const bureau = testCity.bureaus.publicSecurity;
    bureau.setLatency(1_000);
    try {
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const reply = await testCity.graphql('query($id: ID!) { person(idNumber: $id) { name } }', { id: subject.idNumber });
        expect(reply.body.data.person).toBeNull();
        expect(reply.body.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', bureau: 'public-security', reason: 'timeout' });
      }
      const ready = await (await fetch(`${testCity.gateway.url}/readyz`)).json();
      expect(ready.bureaus['public-security'].breaker).toBe('open');
      // Open: refused without a call to the bureau (so without waiting for it; how fast is bench/'s to measure).
      const calls = bureau.requestCount();
      const refused = await testCity.graphql('query($id: ID!) { person(idNumber: $id) { name } }', { id: subject.idNumber });
      expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', reason: 'breaker-open' });
      expect(bureau.requestCount()).toBe(calls);
    } finally {
      bureau.setLatency(0);
    }
    // Refused while open; once its reset period is over, one trial reaches the (now fast) bureau and closes it.
    const recovered = await waitFor(
      async () => {
        const reply = await testCity.graphql('query($id: ID!) { person(idNumber: $id) { name } }', { id: subject.idNumber });
        return reply.body.data?.person ? reply : undefined;
      },
      { what: 'the breaker lets a trial through and the bureau answers', intervalMs: 100 },
    );
    expect(recovered.body).toEqual({ data: { person: { name: subject.name } } });
    const ready = await (await fetch(`${testCity.gateway.url}/readyz`)).json();
    expect(ready.bureaus['public-security'].breaker).toBe('closed');
  });
});

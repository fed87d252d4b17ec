import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleQuery, sampleResident } from '../examples/demo-city.ts';
import { operationHashOf } from '../gateway/operations/operation-manifest.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';
import { countingCalls, NO_CALLS } from './support/upstream-calls.ts';

const REGISTERED = sampleQuery(sampleResident().idNumber);
const UNREGISTERED = `{ person(idNumber: "${sampleResident().idNumber}") { name } }`;

describe('trusted operations, mode require, through real HTTP', () => {
  let city: TestCity;
  let dir: string;
  let operator: Record<string, string>;
  const post = (body: unknown, headers = city.reviewer) =>
    fetch(`${city.gateway.url}/graphql`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', accept: 'application/graphql-response+json' }, body: JSON.stringify(body) }).then(async (response) => ({ status: response.status, body: (await response.json()) as any }));
  const put = (body: unknown, headers: Record<string, string>) =>
    fetch(`${city.gateway.url}/admin/api/operations/civil-affairs/allowance-review`, { method: 'PUT', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (response) => ({ status: response.status, body: (await response.json()) as any }));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'isthmus-operations-'));
    mkdirSync(join(dir, 'civil-affairs'));
    // The key without its prefix, as Relay writes it.
    writeFileSync(join(dir, 'civil-affairs', 'allowance-review.json'), JSON.stringify({ [operationHashOf(REGISTERED).slice('sha256:'.length)]: REGISTERED }));
    city = await startTestCity({ ISTHMUS_OPERATIONS_DIR: dir, ISTHMUS_OPERATIONS_APP_MODES: 'civil-affairs/allowance-review=require' });
    operator = { authorization: `Bearer ${await city.token({ bureau: 'big-data-bureau', app: 'ops', user: 'ops.lin@big-data-bureau', roles: ['operator'], ttl: '1h' })}` };
  });
  afterAll(async () => {
    await city?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs a registered document', async () => {
    const reply = await post({ query: REGISTERED });
    expect(reply.status).toBe(200);
    expect(reply.body.data.person.name).toBe(sampleResident().name);
  });

  it('refuses an unregistered document OPERATION_NOT_REGISTERED, calling no bureau', async () => {
    const { result, calls } = await countingCalls(city, () => post({ query: UNREGISTERED }));
    expect(result.status).toBe(403);
    expect(result.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'OPERATION_NOT_REGISTERED', operationHash: operationHashOf(UNREGISTERED) });
    expect(calls).toEqual(NO_CALLS);
  });

  it('runs a registered hash sent alone, the Apollo way and the GraphQL-over-HTTP way', async () => {
    const hash = operationHashOf(REGISTERED);
    const apollo = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: hash.slice('sha256:'.length) } } });
    expect(apollo.status).toBe(200);
    expect(apollo.body.data.person.name).toBe(sampleResident().name);
    const documentId = await post({ documentId: hash });
    expect(documentId.status).toBe(200);
    expect(documentId.body.data.person.name).toBe(sampleResident().name);
  });

  it('answers a hash the app has not registered PERSISTED_QUERY_NOT_FOUND', async () => {
    const { result, calls } = await countingCalls(city, () => post({ documentId: operationHashOf(UNREGISTERED) }));
    expect(result.status).toBe(400);
    expect(result.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'PERSISTED_QUERY_NOT_FOUND', field: 'documentId' });
    expect(calls).toEqual(NO_CALLS);
  });

  it('registers a manifest through the admin API, operators only, refusing a hash that does not match its document', async () => {
    const developer = await put({ manifest: {} }, city.reviewer);
    expect(developer.status).toBe(403);
    const lying = await put({ manifest: { [operationHashOf(REGISTERED)]: UNREGISTERED } }, operator);
    expect(lying.status).toBe(400);
    expect(lying.body.errors[0].extensions.field).toBe('manifest');
    expect(lying.body.errors[0].message).toContain(`${operationHashOf(REGISTERED)} does not match its document`);
    const badMode = await put({ manifest: {}, mode: 'strict' }, operator);
    expect(badMode.status).toBe(400);
    expect(badMode.body.errors[0].extensions.field).toBe('mode');

    const stored = await put({ manifest: { [operationHashOf(UNREGISTERED)]: UNREGISTERED }, mode: 'require' }, operator);
    expect(stored.status).toBe(200);
    expect(stored.body.change).toMatchObject({ changedBy: 'ops.lin@big-data-bureau', documents: 1, mode: 'require' });
    expect((await post({ query: UNREGISTERED })).status).toBe(200);
    // The stored manifest replaces the file's for this app.
    expect((await post({ query: REGISTERED })).body.errors[0].extensions.reason).toBe('OPERATION_NOT_REGISTERED');

    const shown = await fetch(`${city.gateway.url}/admin/api/operations/civil-affairs/allowance-review`, { headers: operator }).then((response) => response.json() as Promise<any>);
    expect(shown).toMatchObject({ mode: 'require', manifest: { [operationHashOf(UNREGISTERED)]: UNREGISTERED } });
    expect(shown.changes).toHaveLength(1);
  });
});

describe('trusted operations, mode log-unknown: what require would refuse, before it does', () => {
  let city: TestCity;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'isthmus-operations-'));
    mkdirSync(join(dir, 'civil-affairs'));
    writeFileSync(join(dir, 'civil-affairs', 'allowance-review.json'), JSON.stringify({ [operationHashOf(REGISTERED)]: REGISTERED }));
    city = await startTestCity({ ISTHMUS_OPERATIONS_DIR: dir, ISTHMUS_OPERATIONS_APP_MODES: 'civil-affairs/allowance-review=log-unknown' });
  });
  afterAll(async () => {
    await city?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const unregisteredWarnings = () => city.logs.filter((line) => line.msg === 'operation not registered for this app');

  it('runs an unregistered document and logs its hash, app and request id — never the document', async () => {
    const reply = await city.graphql(UNREGISTERED);
    expect(reply.status).toBe(200);
    expect(reply.body.data.person.name).toBe(sampleResident().name);
    const warnings = unregisteredWarnings();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ bureau: 'civil-affairs', app: 'allowance-review', operationHash: operationHashOf(UNREGISTERED), requestId: reply.headers.get('x-request-id') });
    expect(JSON.stringify(warnings[0])).not.toContain(sampleResident().idNumber);
  });

  it('says nothing of a registered document, and nothing of an app left in mode off', async () => {
    expect((await city.graphql(REGISTERED)).status).toBe(200);
    const other = { authorization: `Bearer ${await city.token({ bureau: 'civil-affairs', app: 'other-desk', user: 'wu.fang@civil-affairs', roles: ['developer'], ttl: '1h' })}` };
    await city.graphql(UNREGISTERED, {}, other);
    expect(unregisteredWarnings()).toHaveLength(1);
  });
});

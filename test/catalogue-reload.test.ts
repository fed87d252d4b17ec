import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCity } from '../examples/data/generate-city.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';
import { waitFor } from './support/wait-for.ts';

const SCHEMAS = fileURLToPath(new URL('../schemas/', import.meta.url));
const enterprise = demoCity().enterprises[0]!;
/** A root field the shipped catalogue does not have: the reload adds it. */
const NEW_ROOT_FIELD = `  "The same lookup under a second name, added by a reload."\n  registeredEnterprise(creditCode: ID!): Enterprise @http(get: "/enterprises/{creditCode}")\n`;
const NEW_QUERY = `query($code: ID!) { registeredEnterprise(creditCode: $code) { name establishedOn } }`;

describe('catalogue reload without downtime', () => {
  let city: TestCity;
  let dir: string;
  let operator: Record<string, string>;
  let developer: Record<string, string>;
  const marketSdl = () => join(dir, 'market-supervision', 'schema.graphql');
  const original = readFileSync(join(SCHEMAS, 'market-supervision', 'schema.graphql'), 'utf8');
  const withNewField = original.replace('type Query {\n', `type Query {\n${NEW_ROOT_FIELD}`);

  beforeAll(async () => {
    // A copy of the shipped schemas: the test changes it under the running gateway.
    dir = mkdtempSync(join(tmpdir(), 'isthmus-schemas-'));
    cpSync(SCHEMAS, dir, { recursive: true });
    city = await startTestCity({ ISTHMUS_SCHEMAS_DIR: dir });
    operator = { authorization: `Bearer ${await city.token({ bureau: 'big-data-bureau', app: 'ops', user: 'ops.lin@big-data-bureau', roles: ['operator'], ttl: '1h' })}` };
    developer = { authorization: `Bearer ${await city.token({ bureau: 'transport', app: 'taxi-licensing', user: 'gao.yu@transport', roles: ['developer'], ttl: '1h' })}` };
  });
  afterAll(async () => {
    await city?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const reload = (headers: Record<string, string>) => fetch(`${city.gateway.url}/admin/api/catalogue/reload`, { method: 'POST', headers });
  const ask = (query: string) => city.graphql(query, { code: enterprise.creditCode }, developer);

  it('is for operators', async () => {
    const response = await reload(developer);
    expect(response.status).toBe(403);
    expect((await response.json()).errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', rule: 'OPERATOR_ONLY' });
  });

  it('makes a new field queryable, replacing only the connector of the bureau that changed', async () => {
    const before = await ask(NEW_QUERY);
    expect(before.body.errors?.[0]?.message).toContain('registeredEnterprise');
    writeFileSync(marketSdl(), withNewField);
    const response = await reload(operator);
    expect(response.status).toBe(200);
    expect((await response.json()).reload).toEqual({
      ok: true,
      generation: 2,
      added: [],
      removed: [],
      changed: ['market-supervision'],
      unchanged: ['human-resources-social-security', 'public-security'],
    });
    const after = await ask(NEW_QUERY);
    expect(after.body).toEqual({ data: { registeredEnterprise: { name: enterprise.name, establishedOn: enterprise.establishedOn } } });
    expect(city.gateway.catalogue.rootFields.get('registeredEnterprise')).toBe('market-supervision');
  });

  it('refuses a broken folder with every problem and keeps serving the running catalogue', async () => {
    writeFileSync(marketSdl(), withNewField.replace('name: String @share(category: OPEN, sensitivity: LOW)', 'name: String'));
    const manifest = join(dir, 'public-security', 'manifest.json');
    const goodManifest = readFileSync(manifest, 'utf8');
    writeFileSync(manifest, goodManifest.replace(/"timeoutMs": \d+/, '"timeoutMs": -1'));
    try {
      const response = await reload(operator);
      expect(response.status).toBe(400);
      const body = await response.json();
      const fields = body.errors.map((error: { extensions: { field: string } }) => error.extensions.field);
      expect(fields).toEqual(expect.arrayContaining(['market-supervision/schema.graphql:Enterprise.name', 'public-security/manifest.json:connector.timeoutMs']));
      for (const error of body.errors) expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CATALOGUE_INVALID' });
      expect(city.logs.some((line) => line.msg === 'catalogue reload refused; the running catalogue stays')).toBe(true);
      const still = await ask(NEW_QUERY);
      expect(still.body.data?.registeredEnterprise?.name).toBe(enterprise.name);
    } finally {
      writeFileSync(manifest, goodManifest);
      writeFileSync(marketSdl(), withNewField);
    }
  });

  it('lets a request in flight during the reload finish on the schema it started with', async () => {
    const bureau = city.bureaus.marketSupervision;
    const reached = bureau.requestCount();
    bureau.setLatency(1_500);
    let inFlight: Promise<Awaited<ReturnType<typeof ask>>>;
    try {
      inFlight = ask(NEW_QUERY);
      await waitFor(() => bureau.requestCount() > reached, { what: 'the request reaches the slowed bureau' });
      // The new catalogue no longer has the field the request in flight asked for.
      writeFileSync(marketSdl(), withNewField.replace(/\s*"成立日期 \(YYYY-MM-DD\)"\n\s*establishedOn: String @share\(category: OPEN, sensitivity: LOW\)/, ''));
      const response = await reload(operator);
      expect(response.status).toBe(200);
      expect((await response.json()).reload).toMatchObject({ ok: true, changed: ['market-supervision'] });
    } finally {
      bureau.setLatency(0);
    }
    const finished = await inFlight;
    expect(finished.status).toBe(200);
    expect(finished.body).toEqual({ data: { registeredEnterprise: { name: enterprise.name, establishedOn: enterprise.establishedOn } } });
    // A request that starts now is on the new schema.
    const now = await ask(NEW_QUERY);
    expect(now.body.errors?.[0]?.message).toContain('establishedOn');
    expect((await ask(`query($code: ID!) { registeredEnterprise(creditCode: $code) { name } }`)).body).toEqual({ data: { registeredEnterprise: { name: enterprise.name } } });
  });
});

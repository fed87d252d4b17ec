import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoBureaus, type DemoBureaus } from '../examples/start-bureaus.ts';
import { demoCity } from '../examples/data/generate-city.ts';
import { openDevIssuer } from '../gateway/auth/dev-issuer.ts';
import { spawnGateway } from './support/spawn-gateway.ts';
import { waitFor } from './support/wait-for.ts';

const SCHEMAS = fileURLToPath(new URL('../schemas/', import.meta.url));

describe('catalogue reload on SIGHUP', () => {
  let bureaus: DemoBureaus;
  let folder: string;
  beforeAll(async () => {
    bureaus = await startDemoBureaus(process.env.DATABASE_URL ? { databaseServerUrl: process.env.DATABASE_URL } : {});
    folder = mkdtempSync(join(tmpdir(), 'isthmus-sighup-'));
  });
  afterAll(async () => {
    await bureaus?.close();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('a spawned gateway reads its changed schemas folder on SIGHUP and serves the new field', { timeout: 120_000 }, async () => {
    const schemas = join(folder, 'schemas');
    cpSync(SCHEMAS, schemas, { recursive: true });
    const keysDir = join(folder, 'keys');
    const devIssuer = await openDevIssuer({ keysDir });
    const token = await devIssuer.signDevToken({ bureau: 'transport', app: 'taxi-licensing', roles: ['developer'], ttl: '10m' });
    const { child, url, lines } = await spawnGateway({
      PORT: '0',
      ISTHMUS_KEYS_DIR: keysDir,
      ISTHMUS_DEV_ISSUER: 'true',
      ISTHMUS_DATA_DIR: join(folder, 'data'),
      ISTHMUS_SCHEMAS_DIR: schemas,
      ...bureaus.env,
    });
    const enterprise = demoCity().enterprises[0]!;
    const ask = async () => {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: `{ registeredEnterprise(creditCode: "${enterprise.creditCode}") { name } }` }),
      });
      return (await response.json()) as { data?: unknown; errors?: { message: string }[] };
    };
    try {
      expect((await ask()).errors?.[0]?.message).toContain('registeredEnterprise');
      const file = join(schemas, 'market-supervision', 'schema.graphql');
      writeFileSync(file, readFileSync(file, 'utf8').replace('type Query {\n', 'type Query {\n  registeredEnterprise(creditCode: ID!): Enterprise @http(get: "/enterprises/{creditCode}")\n'));
      child.kill('SIGHUP');
      await waitFor(() => lines.some((line) => line.includes('"catalogue reloaded"')), { what: 'the gateway logs the reload' });
      const reloaded = JSON.parse(lines.find((line) => line.includes('"catalogue reloaded"'))!);
      expect(reloaded).toMatchObject({ generation: 2, changed: ['market-supervision'] });
      expect(await ask()).toEqual({ data: { registeredEnterprise: { name: enterprise.name } } });
      // SIGHUP reloads; it does not stop the gateway.
      expect(child.exitCode).toBe(null);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

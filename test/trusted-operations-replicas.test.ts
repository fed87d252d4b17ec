import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoBureaus, type DemoBureaus } from '../examples/start-bureaus.ts';
import { demoCity } from '../examples/data/generate-city.ts';
import { openDevIssuer } from '../gateway/auth/dev-issuer.ts';
import { operationHashOf } from '../gateway/operations/operation-manifest.ts';
import { createScratchDatabase } from './support/test-stores.ts';
import { spawnGateway, type SpawnedGateway } from './support/spawn-gateway.ts';
import { HRSS } from './support/upstream-calls.ts';

/**
 * A manifest registered through one replica's admin API reaches the other
 * replicas through PostgreSQL's NOTIFY, not their 60 s poll: two gateway
 * processes on one database, the change made on the first, the second refusing
 * within seconds. PostgreSQL only (PGlite serves one process).
 */

const serverUrl = process.env.DATABASE_URL;
const city = demoCity();
const REGISTERED = 'query Registry($id: ID!) { person(idNumber: $id) { idNumber } }';
const UNREGISTERED = 'query Other($id: ID!) { person(idNumber: $id) { idNumber } }';
/** Far below the 60 s poll: only NOTIFY can be this quick. */
const NOTIFY_WITHIN_MS = 10_000;

describe('trusted operations across gateway processes', () => {
  let bureaus: DemoBureaus;
  let keysDir: string;
  let developer: string;
  let operator: string;
  const spawned: SpawnedGateway[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    if (!serverUrl) return;
    bureaus = await startDemoBureaus({ databaseServerUrl: serverUrl });
    keysDir = mkdtempSync(join(tmpdir(), 'isthmus-keys-'));
    const issuer = await openDevIssuer({ keysDir });
    developer = await issuer.signDevToken({ bureau: HRSS, app: 'pension-desk', user: 'li.na@hrss', roles: ['developer'], ttl: '1h' });
    operator = await issuer.signDevToken({ bureau: 'big-data-bureau', app: 'ops', user: 'ops.lin@big-data-bureau', roles: ['operator'], ttl: '1h' });
  }, 120_000);
  afterAll(async () => {
    for (const gateway of spawned) gateway.child.kill('SIGKILL');
    await Promise.allSettled(spawned.map((gateway) => gateway.exited));
    for (const cleanup of cleanups.reverse()) await cleanup();
    await bureaus?.close();
    if (keysDir) rmSync(keysDir, { recursive: true, force: true });
  });

  const query = (gateway: SpawnedGateway, document: string) =>
    fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${developer}` },
      body: JSON.stringify({ query: document, variables: { id: city.persons[0]!.idNumber } }),
    }).then(async (response) => ({ status: response.status, body: (await response.json()) as any }));

  it.skipIf(!serverUrl)('a manifest stored through one replica is enforced by the other within seconds (NOTIFY, PostgreSQL)', { timeout: 240_000 }, async () => {
    const scratch = await createScratchDatabase(serverUrl!, 'isthmus_operations_notify');
    cleanups.push(() => scratch.drop());
    const env = { PORT: '0', ISTHMUS_KEYS_DIR: keysDir, ISTHMUS_DEV_ISSUER: 'true', ISTHMUS_GRAPHIQL: 'false', DATABASE_URL: scratch.url, ...bureaus.env };
    const [first, second] = await Promise.all([spawnGateway(env), spawnGateway(env)]);
    spawned.push(first!, second!);
    // Before: no manifest, mode off, both run anything.
    expect((await query(second!, UNREGISTERED)).status).toBe(200);

    const stored = await fetch(`${first!.url}/admin/api/operations/${HRSS}/pension-desk`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${operator}` },
      body: JSON.stringify({ manifest: { [operationHashOf(REGISTERED)]: REGISTERED }, mode: 'require' }),
    });
    expect(stored.status).toBe(200);
    const changedAt = performance.now();

    await expect.poll(async () => (await query(second!, UNREGISTERED)).body.errors?.[0]?.extensions?.reason, { timeout: NOTIFY_WITHIN_MS, interval: 200 }).toBe('OPERATION_NOT_REGISTERED');
    const heardAfterMs = performance.now() - changedAt;
    expect(heardAfterMs).toBeLessThan(NOTIFY_WITHIN_MS);
    const registered = await query(second!, REGISTERED);
    expect(registered.status).toBe(200);
    // Masked by the catalogue (the middle digits), read all the same.
    expect(registered.body.data.person.idNumber.slice(-4)).toBe(city.persons[0]!.idNumber.slice(-4));
    // And the replica that stored it, at once.
    expect((await query(first!, UNREGISTERED)).status).toBe(403);
    console.info(`operations manifest heard by the other replica after ${Math.round(heardAfterMs)} ms`);
  });
});

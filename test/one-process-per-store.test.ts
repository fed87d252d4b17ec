import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoBureaus, type DemoBureaus } from '../examples/start-bureaus.ts';
import { demoCity } from '../examples/data/generate-city.ts';
import { openDevIssuer } from '../gateway/auth/dev-issuer.ts';
import { LOG_KEYS_PATH } from '../gateway/access-log/log-tree-keys.ts';
import { STORE_LOCK_FILE } from '../gateway/store/store-lock.ts';
import { openStore, type Store } from '../gateway/store/store.ts';
import { createScratchDatabase } from './support/test-stores.ts';
import { runIsthmusCli, spawnGateway, stopGateway, type SpawnedGateway } from './support/spawn-gateway.ts';
import { HRSS } from './support/upstream-calls.ts';

/**
 * The lost-write scenario of issue 9, with real processes: a newcomer runs a
 * gateway, then `isthmus start --port <other>` on the same folder. On the
 * embedded store the second one is refused before it writes anything, and
 * every entry the first committed survives and verifies. On PostgreSQL the
 * two are replicas with a chain each, and both chains stay whole.
 */

const city = demoCity();
const serverUrl = process.env.DATABASE_URL;
/** HRSS reads OPEN fields of two other bureaus: cross-bureau, logged, and needs no agreement. */
const CROSS_BUREAU = 'query Registry($id: ID!, $code: ID!) { person(idNumber: $id) { idNumber } enterprise(creditCode: $code) { name status } }';

let bureaus: DemoBureaus;
let work: string;
let token: string;
const spawned: SpawnedGateway[] = [];

beforeAll(async () => {
  bureaus = await startDemoBureaus(serverUrl ? { databaseServerUrl: serverUrl } : {});
  work = mkdtempSync(join(tmpdir(), 'isthmus-one-owner-'));
  const devIssuer = await openDevIssuer({ keysDir: join(work, 'keys') });
  token = await devIssuer.signDevToken({ bureau: HRSS, app: 'pension-desk', user: 'li.na@hrss', roles: ['developer'], ttl: '1h' });
}, 120_000);
afterAll(async () => {
  for (const gateway of spawned) gateway.child.kill('SIGKILL');
  await Promise.allSettled(spawned.map((gateway) => gateway.exited));
  await bureaus?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The settings both gateways of a test share; PORT and HOST are wrong on purpose: the flags must win. */
function environment(store: Record<string, string>): Record<string, string> {
  return { PORT: '1', HOST: '203.0.113.1', ISTHMUS_KEYS_DIR: join(work, 'keys'), ISTHMUS_DEV_ISSUER: 'true', ISTHMUS_GRAPHIQL: 'false', ...store, ...bureaus.env };
}

async function start(env: Record<string, string>, port: number | string): Promise<SpawnedGateway> {
  const gateway = await spawnGateway(env, { cli: ['start', '--port', String(port), '--host', '127.0.0.1'] });
  spawned.push(gateway);
  return gateway;
}

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `count` cross-bureau reads, one after another; the request ids of the answers (each a 200, each logged before it left). */
async function readAcross(url: string, count: number, offset = 0): Promise<string[]> {
  const ids: string[] = [];
  for (let index = offset; index < offset + count; index += 1) {
    const person = city.persons[(index * 13) % city.persons.length]!;
    const enterprise = city.enterprises[(index * 7) % city.enterprises.length]!;
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: CROSS_BUREAU, variables: { id: person.idNumber, code: enterprise.creditCode } }),
      signal: AbortSignal.timeout(20_000),
    });
    const body = (await response.json()) as { data?: { person?: { idNumber?: string } }; errors?: unknown };
    // The id number comes back masked (its default mask keeps the last four digits).
    expect({ status: response.status, errors: body.errors, tail: body.data?.person?.idNumber?.slice(-4) }).toEqual({ status: 200, errors: undefined, tail: person.idNumber.slice(-4) });
    ids.push(response.headers.get('x-request-id')!);
  }
  return ids;
}

/** The gateway's published keys (its log keys, or the dev issuer's JWKS), saved to a file as an auditor would keep them. */
async function saveKeys(url: string, path: string, name: string): Promise<{ file: string; vkeys: string[] }> {
  const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(10_000) });
  expect(response.status).toBe(200);
  const document = (await response.json()) as { keys: { vkey?: string }[] };
  const file = join(work, name);
  writeFileSync(file, JSON.stringify(document));
  return { file, vkeys: document.keys.flatMap((key) => (key.vkey ? [key.vkey] : [])) };
}

/** Every request id of `ids` without an entry in the log. */
async function notLogged(store: Store, ids: readonly string[]): Promise<string[]> {
  const rows = await store.db.selectFrom('access_log').select('request_id').where('request_id', 'in', [...ids]).execute();
  const logged = new Set(rows.map((row) => row.request_id));
  return ids.filter((id) => !logged.has(id));
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

describe('one process per embedded store', () => {
  it('refuses a second `isthmus start --port` on the folder before it writes anything, and loses no entry of the first', { timeout: 300_000 }, async () => {
    const dataDir = join(work, 'data');
    // DATABASE_URL emptied: with it set (as in CI) the gateway would use PostgreSQL, not the folder.
    const env = environment({ ISTHMUS_DATA_DIR: dataDir, DATABASE_URL: '' });
    const port = await freePort();
    const first = await start(env, port);
    // --port and --host beat PORT=1 and HOST=203.0.113.1.
    expect(first.url).toBe(`http://127.0.0.1:${port}`);
    const committed = await readAcross(first.url, 12);
    const published = await saveKeys(first.url, LOG_KEYS_PATH, 'log-keys.json');
    const devIssuerKeys = await saveKeys(first.url, '/.well-known/jwks.json', 'dev-issuer-jwks.json');

    const lock = readFileSync(join(dataDir, STORE_LOCK_FILE), 'utf8');
    expect(JSON.parse(lock)).toMatchObject({ pid: first.child.pid, url: first.url });
    const postmaster = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8');
    const files = filesUnder(dataDir);

    const second = await runIsthmusCli(['start', '--port', String(await freePort())], env, 120_000);
    expect(second.code).toBe(1);
    expect(second.stdout).not.toContain('gateway listening');
    expect(second.stderr).toContain(`isthmus: the embedded store in ${dataDir} is in use by process ${first.child.pid} (isthmus.ts start --port ${port} --host 127.0.0.1)`);
    expect(second.stderr).toContain(`serving ${first.url} (STORE_LOCKED)`);
    expect(second.stderr).toContain('stop that process, give this gateway a folder of its own (ISTHMUS_DATA_DIR), or run replicas on PostgreSQL (DATABASE_URL)');

    // A port in use is said in one line too (a gateway of its own, in memory, on the first one's port).
    const busy = await runIsthmusCli(['start', '--port', String(port), '--host', '127.0.0.1'], { ...env, ISTHMUS_DATA_DIR: ':memory:', ISTHMUS_KEYS_DIR: join(work, 'busy-keys') }, 120_000);
    expect(busy).toMatchObject({ code: 1, stderr: `isthmus: port ${port} on 127.0.0.1 is in use by another process; choose another with PORT or isthmus start --port (EADDRINUSE)\n` });

    // Read-only commands on the live folder are refused in the same words.
    const liveVerify = await runIsthmusCli(['log', 'verify'], env);
    expect(liveVerify.code).toBe(1);
    expect(liveVerify.stderr).toContain(`the embedded store in ${dataDir} is in use by process ${first.child.pid}`);

    // The refused processes touched nothing: the lock, PGlite's postmaster.pid and the folder's files are as they were.
    expect(readFileSync(join(dataDir, STORE_LOCK_FILE), 'utf8')).toBe(lock);
    expect(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8')).toBe(postmaster);
    expect(filesUnder(dataDir)).toEqual(files);

    // …and the first gateway runs on, logging as before.
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
    committed.push(...(await readAcross(first.url, 6, 12)));
    expect((await stopGateway(first)).code).toBe(0);

    // Against the keys the gateway published, the chain verifies with every entry in it.
    const verified = await runIsthmusCli(['log', 'verify', '--log-keys', published.file], env);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain(`ok: ${committed.length} entries in 1 chains\n`);
    // No witnesses in this gateway: its chain is checked against its own signed checkpoints, and nothing is said to be covered.
    expect(verified.stdout).toContain(`chain ${first.instanceId}: ${committed.length} entries (seq 1–${committed.length}); no witnessed checkpoint covers it; ${committed.length} not yet covered`);
    expect(verified.stderr).toContain('nothing was proven against evidence outside the database');
    // The wrong key set (the dev issuer's JWKS, also under /.well-known) is not a list of log keys, and it says so.
    const wrong = await runIsthmusCli(['log', 'verify', '--log-keys', devIssuerKeys.file], env);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/key 1 of the log keys .*dev-issuer-jwks\.json has no "vkey" \(LOG_KEYS_INVALID\)/);

    const store = await openStore({ kind: 'pglite', dataDir });
    try {
      expect(await notLogged(store, committed)).toEqual([]);
      // The refused start registered no instance and no chain.
      expect((await store.db.selectFrom('gateway_instances').select('id').execute()).map((row) => row.id)).toEqual([first.instanceId]);
      expect((await store.db.selectFrom('access_log_chains').select('chain_id').execute()).map((row) => row.chain_id)).toEqual([first.instanceId]);
      const keys = await store.db.selectFrom('access_log_note_keys').select('vkey').execute();
      expect(keys.map((row) => row.vkey)).toEqual(published.vkeys);
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(!serverUrl)('two gateways on one PostgreSQL database', () => {
  it('are replicas with a chain each; both chains stay whole and verify against the published keys', { timeout: 300_000 }, async () => {
    const scratch = await createScratchDatabase(serverUrl!, 'isthmus_replicas');
    try {
      const env = environment({ DATABASE_URL: scratch.url });
      const [first, second] = await Promise.all([start(env, await freePort()), start(env, await freePort())]);
      expect(first!.instanceId).not.toBe(second!.instanceId);
      const committed = [...(await readAcross(first!.url, 8)), ...(await readAcross(second!.url, 8, 8))];
      const published = await saveKeys(second!.url, LOG_KEYS_PATH, 'replica-log-keys.json');

      // PostgreSQL has no single owner: verifying while both run is fine, and sees one snapshot.
      const during = await runIsthmusCli(['log', 'verify', '--log-keys', `${first!.url}${LOG_KEYS_PATH}`], env);
      expect(during.code).toBe(0);
      expect(during.stdout).toContain(`ok: ${committed.length} entries in 2 chains\n`);

      expect((await stopGateway(first!)).code).toBe(0);
      expect((await stopGateway(second!)).code).toBe(0);
      const after = await runIsthmusCli(['log', 'verify', '--log-keys', published.file], env);
      expect(after.code).toBe(0);
      expect(after.stdout).toContain(`ok: ${committed.length} entries in 2 chains\n`);

      const store = await openStore({ kind: 'postgres', url: scratch.url, poolSize: 2 });
      try {
        expect(await notLogged(store, committed)).toEqual([]);
        const chains = await store.db
          .selectFrom('access_log')
          .select(['chain_id', (eb) => eb.fn.countAll<string | number>().as('entries'), (eb) => eb.fn.max('seq').as('last')])
          .groupBy('chain_id')
          .execute();
        expect(chains.map((chain) => [chain.chain_id, Number(chain.entries), Number(chain.last)]).sort()).toEqual(
          [[first!.instanceId, 8, 8], [second!.instanceId, 8, 8]].sort(),
        );
        const finals = await store.db.selectFrom('access_log_tree_checkpoints').select('chain_id').where('final', '=', true).execute();
        expect(finals.map((row) => row.chain_id).sort()).toEqual([first!.instanceId, second!.instanceId].sort());
      } finally {
        await store.close();
      }
    } finally {
      await scratch.drop();
    }
  });
});

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAccessLog } from '../gateway/access-log/verify-access-log.ts';
import { openStore } from '../gateway/store/store.ts';
import { createScratchDatabase, storeTargets } from './support/test-stores.ts';
import { openGatewayProcesses, type GatewayProcesses } from './support/gateway-processes.ts';
import { spawnGateway, stopGateway } from './support/spawn-gateway.ts';
import { waitFor } from './support/wait-for.ts';
import { missingLogEntries } from './support/missing-log-entries.ts';
import { HRSS } from './support/upstream-calls.ts';
import { runLoad } from './support/access-log-load.ts';

/**
 * The access log across real gateway processes (`node gateway/main.ts`):
 * two replicas writing one database at once, and a replica killed with
 * SIGKILL under load. The bureaus run in this process; each gateway is its
 * own process with its own store connection, as in production.
 *
 * Loads target 127.0.0.1 only and are bounded in clients, requests and time.
 */

const serverUrl = process.env.DATABASE_URL;

describe('the access log across gateway processes', () => {
  let processes: GatewayProcesses;
  /** A token of the dev issuer whose key the spawned gateways read from the same keys folder. */
  let token: string;
  const gatewayEnv = (store: Record<string, string>): Record<string, string> => processes.gatewayEnv(store);

  beforeAll(async () => {
    processes = await openGatewayProcesses(serverUrl);
    token = await processes.devIssuer.signDevToken({ bureau: HRSS, app: 'pension-desk', user: 'li.na@hrss', roles: ['developer'], ttl: '1h' });
  }, 120_000);
  afterAll(async () => {
    await processes?.close();
  });

  it.skipIf(!serverUrl)('two gateway processes writing one database at once keep two valid chains (PostgreSQL)', { timeout: 240_000 }, async () => {
    const scratch = await createScratchDatabase(serverUrl!, 'isthmus_two_chains');
    processes.cleanups.push(() => scratch.drop());
    const [first, second] = await Promise.all([spawnGateway(gatewayEnv({ DATABASE_URL: scratch.url })), spawnGateway(gatewayEnv({ DATABASE_URL: scratch.url }))]);
    processes.spawned.push(first!, second!);
    expect(first!.instanceId).not.toBe(second!.instanceId);

    // 8 clients per gateway, at most 60 requests each, at most 30 s.
    const load = runLoad({ urls: [first!.url, second!.url], token, clients: 16, maxRequests: 60, maxMs: 30_000 });
    const store = await openStore({ kind: 'postgres', url: scratch.url, poolSize: 2 });
    processes.cleanups.push(() => store.close());
    // While both write: the verifier's snapshot is consistent.
    await expect.poll(() => load.result.received.length, { timeout: 30_000 }).toBeGreaterThan(100);
    const during = await verifyAccessLog(store.db);
    expect(during.problems).toEqual([]);
    await load.done;

    const { result } = load;
    expect(result.failed).toBe(0);
    expect([...result.otherStatus]).toEqual([]);
    expect(await missingLogEntries(store, result.received)).toEqual([]);

    // Stopped gracefully, each writes its chain's final checkpoint.
    expect((await stopGateway(first!)).code).toBe(0);
    expect((await stopGateway(second!)).code).toBe(0);
    const verification = await verifyAccessLog(store.db);
    expect(verification.problems).toEqual([]);
    expect(verification.chains).toBe(2);
    expect(verification.entries).toBe(result.received.length);

    const chains = await store.db
      .selectFrom('access_log')
      .select(['chain_id', (eb) => eb.fn.countAll<string | number>().as('entries'), (eb) => eb.fn.max('seq').as('last')])
      .groupBy('chain_id')
      .orderBy('chain_id')
      .execute();
    expect(chains.map((chain) => chain.chain_id).sort()).toEqual([first!.instanceId, second!.instanceId].sort());
    for (const chain of chains) {
      // Each chain numbered 1…n without a gap, and each gateway took a share of the load.
      expect(Number(chain.last)).toBe(Number(chain.entries));
      expect(Number(chain.entries)).toBeGreaterThan(0);
    }
    console.info(`two chains: ${result.received.length} responses, ${chains.map((chain) => `${chain.entries} entries in ${chain.chain_id}`).join(', ')}; ${during.entries} entries verified mid-load`);
    const finals = await store.db.selectFrom('access_log_tree_checkpoints').select(['chain_id', 'size']).where('final', '=', true).execute();
    expect(finals.map((checkpoint) => checkpoint.chain_id).sort()).toEqual([first!.instanceId, second!.instanceId].sort());
  });

  for (const target of storeTargets()) it.skipIf(!target.available)(`a gateway killed with SIGKILL under load loses no entry of any response a client received (${target.name})`, { timeout: 240_000 }, async () => {
    // PostgreSQL: a scratch database. PGlite: a data dir on disk, reopened after the kill.
    const database = await target.gatewayDatabase({ prefix: 'isthmus_crash', onDisk: true });
    processes.cleanups.push(() => database.drop());
    const gateway = await spawnGateway(gatewayEnv(database.env));
    processes.spawned.push(gateway);

    // Warm-up, counted like the rest: the first requests compile the query plans.
    const warmUp = runLoad({ urls: [gateway.url], token, clients: 4, maxRequests: 5, maxMs: 30_000 });
    await warmUp.done;
    expect(warmUp.result.received.length).toBe(20);

    // On PostgreSQL the kill is made to land while log commits are in flight: an admin
    // connection holds a lock that makes the log's INSERTs wait (the writer's deadline is 5 s),
    // and the kill comes once they wait and every client has a request out. A gateway that
    // answered before its entry was committed would then have sent 200s whose entries die
    // with it, and this test would see them missing. PGlite is inside the gateway process,
    // out of the test's reach: there the kill lands wherever the load happens to be.
    const lockHolder = database.url ? new pg.Client({ connectionString: database.url }) : undefined;
    await lockHolder?.connect();
    if (lockHolder) processes.cleanups.push(() => lockHolder.end().catch(() => undefined));

    // 16 clients until 100 responses have come back, then SIGKILL while their requests are in flight.
    const clients = 16;
    let killed = false;
    const load = runLoad({ urls: [gateway.url], token, clients, maxRequests: 2_000, maxMs: 60_000, stop: () => killed });
    await waitFor(() => load.result.received.length >= 100, { what: '100 responses under load', timeoutMs: 60_000 });
    let receivedBeforeHold = load.result.received.length;
    if (lockHolder) {
      await lockHolder.query('begin');
      await lockHolder.query('lock table access_log in exclusive mode');
      receivedBeforeHold = load.result.received.length;
      await waitFor(
        async () => {
          const waiting = await lockHolder.query<{ n: number }>("select count(*)::int as n from pg_locks where relation = 'access_log'::regclass and not granted");
          return waiting.rows[0]!.n > 0;
        },
        { what: 'a log commit waits for the lock' },
      );
      const answered = () => load.result.received.length + load.result.failed + [...load.result.otherStatus.values()].reduce((sum, n) => sum + n, 0);
      await waitFor(() => load.result.sent - answered() >= clients, { what: 'every client waits for an answer' });
    }
    const receivedDuringHold = load.result.received.length - receivedBeforeHold;
    gateway.child.kill('SIGKILL');
    killed = true;
    const exit = await gateway.exited;
    expect(exit.signal).toBe('SIGKILL');
    await lockHolder?.query('rollback');
    await load.done;

    const received = [...warmUp.result.received, ...load.result.received];
    const store = database.url ? await openStore({ kind: 'postgres', url: database.url, poolSize: 2 }) : await openStore({ kind: 'pglite', dataDir: database.dataDir! });
    try {
      const missing = await missingLogEntries(store, received);
      const entries = Number((await store.db.selectFrom('access_log').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
      const verification = await verifyAccessLog(store.db);
      console.info(
        `crash test (${store.kind}): ${received.length} responses received (${warmUp.result.received.length} warm-up), ` +
          `${received.length - missing.length} of them found in the log, ${entries} entries in all, ${load.result.failed} requests cut by the kill` +
          (lockHolder ? `, ${receivedDuringHold} responses while the log's commits were held` : ''),
      );
      expect(load.result.received.length).toBeGreaterThan(0);
      expect(missing).toEqual([]);
      // Entries for requests whose responses the kill cut off may be there too; never fewer.
      expect(entries).toBeGreaterThanOrEqual(received.length);
      // A crashed chain has no final checkpoint, and that is not a break: nothing was edited or lost.
      expect(verification.problems).toEqual([]);
      expect(verification.chains).toBe(1);
    } finally {
      await store.close();
    }
  });
});

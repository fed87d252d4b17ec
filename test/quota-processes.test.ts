import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCity } from '../examples/data/generate-city.ts';
import { createAgreementStore } from '../gateway/agreements/agreement-store.ts';
import { createQuotaStore } from '../gateway/quotas/quota-store.ts';
import { readQuotaUse } from '../gateway/quotas/quota-use.ts';
import { openStore, type Store } from '../gateway/store/store.ts';
import { quotaWindow } from '../policies/quota-window.ts';
import { people, requestBody, storeActive } from './support/agreement-fixtures.ts';
import { awaitWindowRoom } from './support/quota-window-room.ts';
import { openGatewayProcesses, type GatewayProcesses } from './support/gateway-processes.ts';
import { spawnGateway, stopGateway } from './support/spawn-gateway.ts';
import { createScratchDatabase } from './support/test-stores.ts';

/**
 * An agreement's requests-per-minute quota across two gateway processes
 * (`node gateway/main.ts`) on one PostgreSQL database, as replicas behind a
 * load balancer run: 120 reads sent concurrently, alternating between the
 * two, under an agreement of 40 requests a minute. Each replica leases
 * blocks of the quota from the one counter row (`quota-meter.ts`), so
 * together they admit at most 40; what the documented bound allows them to
 * lose is a block per replica (a block is at most a tenth of the limit: 4).
 *
 * PostgreSQL only: an embedded PGlite store belongs to one process, so
 * replicas cannot share it (`one-process-per-store.test.ts`).
 */

const city = demoCity();
const serverUrl = process.env.DATABASE_URL;
const LIMIT = 40;
const LEASE_BLOCK = 10;
/** The block a replica leases for this limit: `ISTHMUS_QUOTA_LEASE_BLOCK`, at most a tenth of the limit. */
const BLOCK = Math.max(1, Math.min(LEASE_BLOCK, Math.floor(LIMIT / 10)));
const REQUESTS = 120;
const CLIENTS = 12;
const SCOPE = 'quota.two-replicas';
const NAME = 'query($id: ID!) { person(idNumber: $id) { name } }';
/** An OPEN field: served without an agreement, so it warms both replicas up without using the quota. */
const WARM_UP = 'query($id: ID!) { person(idNumber: $id) { idNumber } }';

interface Answer {
  readonly gateway: number;
  readonly status: number;
  readonly code: string | undefined;
  readonly reason: string | undefined;
  readonly retryAfter: string | null;
}

describe('agreement quotas across gateway processes', () => {
  let processes: GatewayProcesses;
  let token: string;

  beforeAll(async () => {
    processes = await openGatewayProcesses(serverUrl);
    token = await processes.devIssuer.signDevToken({ bureau: people.requester.bureau, app: requestBody().consumerApp, user: 'reader@pension-service', roles: ['developer'], scopes: [SCOPE], ttl: '1h' });
  }, 120_000);
  afterAll(async () => {
    await processes?.close();
  });

  const read = async (url: string, query: string, index: number): Promise<Response> =>
    fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}`, 'x-isthmus-purpose': requestBody().purpose },
      body: JSON.stringify({ query, variables: { id: city.persons[index % city.persons.length]!.idNumber } }),
      signal: AbortSignal.timeout(10_000),
    });

  it.skipIf(!serverUrl)(`two processes on one database admit at most ${LIMIT} of ${REQUESTS} requests in a minute between them (PostgreSQL)`, { timeout: 240_000 }, async () => {
    const scratch = await createScratchDatabase(serverUrl!, 'isthmus_quota_replicas');
    processes.cleanups.push(() => scratch.drop());
    const store: Store = await openStore({ kind: 'postgres', url: scratch.url, poolSize: 2 });
    processes.cleanups.push(() => store.close());
    await store.migrate();
    const agreement = await storeActive(createAgreementStore(store.db), `agr-quota-${Date.now().toString(16)}`, new Date(), { fields: ['Person.name'], masks: {}, scope: SCOPE, quota: { requestsPerMinute: LIMIT } });

    const env = processes.gatewayEnv({ DATABASE_URL: scratch.url, ISTHMUS_QUOTA_LEASE_BLOCK: String(LEASE_BLOCK) });
    const gateways = await Promise.all([spawnGateway(env), spawnGateway(env)]);
    processes.spawned.push(...gateways);
    for (const [index, gateway] of gateways.entries()) expect((await read(gateway.url, WARM_UP, index)).status).toBe(200);

    // The burst takes a few seconds; 25 s of the minute left keeps it in one window.
    const window = await awaitWindowRoom('requestsPerMinute', 25_000);
    let next = 0;
    const answers: Answer[] = [];
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next < REQUESTS) {
          const index = next++;
          // Alternating: even requests to the first process, odd to the second.
          const response = await read(gateways[index % 2]!.url, NAME, index);
          const body = (await response.json()) as { errors?: { extensions?: { code?: string; reason?: string } }[] };
          const extensions = body.errors?.[0]?.extensions;
          answers.push({ gateway: index % 2, status: response.status, code: extensions?.code, reason: extensions?.reason, retryAfter: response.headers.get('retry-after') });
        }
      }),
    );
    expect(quotaWindow('requestsPerMinute', new Date()).start, 'the burst ended in the minute it started in').toEqual(window.start);

    expect(answers).toHaveLength(REQUESTS);
    const served = answers.filter((answer) => answer.status === 200 && answer.code === undefined);
    const refused = answers.filter((answer) => answer.status === 429);
    expect(served.length + refused.length, 'every answer is data or a quota refusal').toBe(REQUESTS);
    // The documented bound: never more than the limit; fewer by at most one block per replica left unspent.
    expect(served.length).toBeLessThanOrEqual(LIMIT);
    expect(served.length).toBeGreaterThanOrEqual(LIMIT - gateways.length * BLOCK);
    // Here both replicas keep receiving requests after the limit is reached, and a replica refuses only once
    // it holds no unit: every unit leased is spent, so nothing is lost and exactly the limit is admitted.
    expect(served.length).toBe(LIMIT);
    for (const answer of refused) {
      expect(answer).toMatchObject({ code: 'LIMIT_EXCEEDED', reason: 'QUOTA_EXCEEDED' });
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(answer.retryAfter)).toBeLessThanOrEqual(60);
    }
    for (const gateway of [0, 1]) {
      expect(served.filter((answer) => answer.gateway === gateway).length, `process ${gateway + 1} served some`).toBeGreaterThan(0);
      expect(refused.filter((answer) => answer.gateway === gateway).length, `process ${gateway + 1} refused some`).toBeGreaterThan(0);
    }
    // The one counter both leased from: the limit, leased out and no further.
    expect((await readQuotaUse(createQuotaStore(store.db), agreement, window.start))?.requestsPerMinute?.used).toBe(LIMIT);
    console.info(`quota across two processes: ${served.length} of ${REQUESTS} served (${served.filter((answer) => answer.gateway === 0).length} + ${served.filter((answer) => answer.gateway === 1).length}), ${refused.length} refused with 429`);

    for (const gateway of gateways) expect((await stopGateway(gateway)).code).toBe(0);
  });
});

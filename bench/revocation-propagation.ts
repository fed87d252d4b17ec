import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { sampleResident } from '../examples/demo-city.ts';
import { loadConfig } from '../gateway/config/config.ts';
import { startGateway, type Gateway } from '../gateway/gateway.ts';
import { startTestCity } from '../test/support/test-city.ts';
import { storeTargets } from '../test/support/test-stores.ts';

/**
 * `DATABASE_URL=postgres://… npx node bench/revocation-propagation.ts [--rounds 20]`
 *
 * How soon an agreement change holds on every gateway: three gateways (A,
 * B and C, one process here, each with its own store connection and
 * registry) on one scratch database of `DATABASE_URL`'s server, in front of
 * the demo bureaus. Each round requests an agreement for `Person.name`,
 * approves it through A's admin API, waits until B and C serve the field,
 * revokes it through A, and reads through A, B and C every
 * {@link POLL_EVERY_MS} until the field is refused. Reports, per gateway, the milliseconds from sending the revoke
 * request to the first refusal (so the admin API's own time counts), and
 * checks DESIGN's goal ("Growing past one machine"): a revocation holds
 * everywhere within a second. The tests check that it holds
 * (test/enforcement-lifecycle.test.ts, gateway/agreements/agreement-registry.test.ts,
 * and across three spawned replicas test/replicas.test.ts).
 */

/** The design's bound on a revocation reaching every replica. */
const GOAL_MS = 1_000;
/** Pause between two reads while waiting for a change. */
const POLL_EVERY_MS = 10;
/** Bound on one wait: far past the goal, so a miss is measured rather than cut short. */
const WAIT_CEILING_MS = 15_000;
/** Bound on one HTTP request of the bench. */
const REQUEST_TIMEOUT_MS = 10_000;

const CONSUMER = { bureau: 'emergency-management', app: 'relief-dispatch', scope: 'relief-dispatch', purpose: 'disaster-relief-dispatch' };
const LEGAL_BASIS = '《中华人民共和国突发事件应对法》第五十二条：履行统一领导职责的人民政府可以征用应急救援所需的信息';
const NAME_QUERY = 'query($id: ID!) { person(idNumber: $id) { name } }';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' } }, strict: true });
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a whole number from 1');
  const postgres = storeTargets().find((target) => target.name === 'postgres')!;
  if (!postgres.available) throw new Error('set DATABASE_URL to a PostgreSQL server where a scratch database may be created: gateways share agreements only through PostgreSQL');

  // One keys folder for all gateways, as replicas share keys: a dev token is good on any.
  const keysDir = mkdtempSync(join(tmpdir(), 'isthmus-bench-keys-'));
  const city = await startTestCity({ ISTHMUS_KEYS_DIR: keysDir, LOG_LEVEL: 'warn' }, { store: postgres });
  const replicas: Gateway[] = [];
  try {
    for (let index = 0; index < 2; index += 1) {
      replicas.push(
        await startGateway(loadConfig({ PORT: '0', LOG_LEVEL: 'warn', ISTHMUS_DEV_ISSUER: 'true', ISTHMUS_KEYS_DIR: keysDir, ...city.database.env, ...city.bureaus.env }), {
          logDestination: new Writable({ write: (_chunk, _encoding, done) => done() }),
        }),
      );
    }
    const gateways = { A: city.gateway, B: replicas[0]!, C: replicas[1]! };
    const dispatcher = {
      authorization: `Bearer ${await city.token({ bureau: CONSUMER.bureau, app: CONSUMER.app, user: 'lin.tao@emergency-management', roles: ['developer'], scopes: [CONSUMER.scope], ttl: '1h' })}`,
      'x-isthmus-purpose': CONSUMER.purpose,
    };
    const officer = { authorization: `Bearer ${await city.token({ bureau: 'public-security', app: 'isthmus-console', user: 'wang.lei@public-security', roles: ['data_officer'], ttl: '1h' })}` };
    const resident = sampleResident();
    const readsName = async (gateway: Gateway) => (await post(`${gateway.url}/graphql`, dispatcher, { query: NAME_QUERY, variables: { id: resident.idNumber } })).body?.data?.person?.name === resident.name;

    const revocationMs: Record<keyof typeof gateways, number[]> = { A: [], B: [], C: [] };
    const approvalMs: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const now = Date.now();
      const requested = await post(`${city.gateway.url}/admin/api/agreements`, dispatcher, {
        consumerApp: CONSUMER.app,
        providerBureau: 'public-security',
        fields: ['Person.name'],
        purpose: CONSUMER.purpose,
        legalBasis: LEGAL_BASIS,
        rowScope: 'ANY',
        scope: CONSUMER.scope,
        validFrom: new Date(now - 60_000).toISOString(),
        validUntil: new Date(now + 86_400_000).toISOString(),
        submit: true,
      });
      if (requested.status !== 201) throw new Error(`requesting the agreement answered ${requested.status}`);
      const id: string = requested.body.agreement.id;

      const approving = performance.now();
      const approved = await post(`${city.gateway.url}/admin/api/agreements/${id}/approve`, officer, {});
      if (approved.status !== 200) throw new Error(`approving ${id} answered ${approved.status}`);
      approvalMs.push(Math.max(...(await Promise.all([gateways.B, gateways.C].map((gateway) => msUntil(approving, () => readsName(gateway)))))));

      const revoking = performance.now();
      const revoked = await post(`${city.gateway.url}/admin/api/agreements/${id}/revoke`, officer, { reason: '应急响应已终止，停止共享户籍姓名信息' });
      if (revoked.status !== 200) throw new Error(`revoking ${id} answered ${revoked.status}`);
      const names = ['A', 'B', 'C'] as const;
      const held = await Promise.all(names.map((name) => msUntil(revoking, async () => !(await readsName(gateways[name])))));
      names.forEach((name, index) => revocationMs[name].push(held[index]!));
    }

    const worst = Math.max(...revocationMs.A, ...revocationMs.B, ...revocationMs.C);
    process.stdout.write(
      [
        `agreement changes across three gateways on one PostgreSQL database, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}, ${rounds} rounds, polled every ${POLL_EVERY_MS} ms`,
        `  revocation holds on A (took it) ${summary(revocationMs.A)}`,
        `  revocation holds on B (replica) ${summary(revocationMs.B)}`,
        `  revocation holds on C (replica) ${summary(revocationMs.C)}`,
        `  approval served by B and C      ${summary(approvalMs)}`,
        `  goal: every revocation holds everywhere within ${GOAL_MS} ms of the request: ${worst <= GOAL_MS ? 'met' : 'NOT MET'} (worst ${worst.toFixed(0)} ms)`,
      ].join('\n') + '\n',
    );
    if (worst > GOAL_MS) process.exitCode = 1;
  } finally {
    for (const replica of replicas) await replica.close();
    await city.close();
    rmSync(keysDir, { recursive: true, force: true });
  }
}

/** POSTs JSON with a bound, and returns the status and the parsed body. */
async function post(url: string, headers: Readonly<Record<string, string>>, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return { status: response.status, body: await response.json() };
}

/** Milliseconds from `since` until `probe` first says yes; fails past {@link WAIT_CEILING_MS}. */
async function msUntil(since: number, probe: () => Promise<boolean>): Promise<number> {
  while (!(await probe())) {
    if (performance.now() - since > WAIT_CEILING_MS) throw new Error(`no change within ${WAIT_CEILING_MS} ms`);
    await sleep(POLL_EVERY_MS);
  }
  return performance.now() - since;
}

function summary(samples: readonly number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(0);
  return `p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${sorted.at(-1)!.toFixed(0)} ms`;
}

await main();

import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoCity } from '../examples/data/generate-city.ts';
import { DEMO_CONSUMERS } from '../examples/demo-agreements.ts';
import { runCli } from '../gateway/cli/run-cli.ts';
import type { AgreementQuota } from '../policies/agreement.ts';
import { quotaWindow, secondsUntilWindowEnds } from '../policies/quota-window.ts';
import { adminCall } from './support/admin-call.ts';
import { describeEachStore } from './support/describe-each-store.ts';
import { awaitWindowRoom } from './support/quota-window-room.ts';
import { startTestCity, type GraphqlReply, type TestCity } from './support/test-city.ts';
import { bearer, countingCalls, NO_CALLS } from './support/upstream-calls.ts';
import { waitFor } from './support/wait-for.ts';

/**
 * Agreement quotas end to end, on a running gateway with real signed tokens
 * and the demo bureaus: an agreement approved with `quota: {
 * requestsPerMinute: 5 }` serves five reads in a minute and refuses the
 * sixth with HTTP 429, `LIMIT_EXCEEDED` / `QUOTA_EXCEEDED` and `retry-after`
 * the seconds to the minute's end, calling no bureau and logging a DENIED
 * entry; `/metrics`, the admin API and `isthmus agreements show` show the
 * use. With `recordsPerDay`, the list read that crosses the day's limit is
 * served and the next one refused until midnight in Asia/Shanghai.
 *
 * The gateway counts on the real clock: each case first waits, if need be,
 * for a window with room enough that its requests cannot straddle two.
 */

const city = demoCity();
const { housingFund } = DEMO_CONSUMERS;
const PROVIDER = 'public-security';
const NAME = 'query($id: ID!) { person(idNumber: $id) { name } }';
const NAMES = 'query($ids: [ID!]!) { persons(idNumbers: $ids) { name } }';

/** The value of one sample on `/metrics`: the line of `name` whose labels include every one of `labels` (0 when there is none). */
function sample(text: string, name: string, labels: Readonly<Record<string, string>>): number {
  const line = text
    .split('\n')
    .find((one) => one.startsWith(`${name}{`) && Object.entries(labels).every(([key, value]) => one.includes(`${key}="${value}"`)));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describeEachStore('agreement quotas on /graphql, store on $name', (target) => {
  let testCity: TestCity;
  let developer: Record<string, string>;
  let officer: Record<string, string>;
  let officerToken: string;

  const admin = (method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: unknown) => adminCall(testCity.gateway.url, method, path, headers, body);

  /** Requests and approves an agreement of the housing fund's app `app` for people's names, with `quota`; its id and a reader's headers. */
  async function activeWithQuota(app: string, quota: AgreementQuota): Promise<{ id: string; reader: Record<string, string> }> {
    const scope = `${app}.read`;
    const now = Date.now();
    const proposed = await admin('POST', '/agreements', developer, {
      consumerApp: app,
      providerBureau: PROVIDER,
      fields: ['Person.name'],
      purpose: housingFund.purpose,
      legalBasis: '《住房公积金管理条例》第二十六条',
      rowScope: 'ANY',
      scope,
      validFrom: new Date(now - 60_000).toISOString(),
      validUntil: new Date(now + 100 * 86_400_000).toISOString(),
      quota,
      submit: true,
    });
    expect(proposed.status).toBe(201);
    expect(proposed.body.agreement.quota).toEqual(quota);
    const id: string = proposed.body.agreement.id;
    const approved = await admin('POST', `/agreements/${id}/approve`, officer, { version: proposed.body.agreement.version });
    expect(approved.status).toBe(200);
    const token = await testCity.token({ bureau: housingFund.bureau, app, user: `reader@${app}`, roles: ['developer'], scopes: [scope], ttl: '1h' });
    return { id, reader: { ...bearer(token), 'x-isthmus-purpose': housingFund.purpose } };
  }

  /** The first read under a new agreement that gets its data (earlier ones, before the approval reaches enforcement, are denied and use no quota). */
  async function firstServed(query: string, variables: Record<string, unknown>, reader: Record<string, string>): Promise<GraphqlReply> {
    return waitFor(
      async () => {
        const reply = await testCity.graphql(query, variables, reader);
        return reply.status === 200 && reply.body.errors === undefined ? reply : undefined;
      },
      { what: 'the approved agreement serves a read' },
    );
  }

  const metrics = async () => (await fetch(`${testCity.gateway.url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();

  async function loggedEntry(requestId: string) {
    const db = testCity.gateway.store.db;
    return waitFor(async () => db.selectFrom('access_log').selectAll().where('request_id', '=', requestId).executeTakeFirst(), { what: `the access log entry of ${requestId}` });
  }

  beforeAll(async () => {
    testCity = await startTestCity({}, { store: target });
    developer = bearer(await testCity.token({ bureau: housingFund.bureau, app: 'isthmus-console', user: 'zhao.qiang@housing-fund', roles: ['developer'], ttl: '1h' }));
    officerToken = await testCity.token({ bureau: PROVIDER, app: 'isthmus-console', user: 'wang.lei@public-security', roles: ['data_officer'], ttl: '1h' });
    officer = bearer(officerToken);
  }, 120_000);
  afterAll(async () => {
    await testCity?.close();
  });

  it('requests per minute: five served, the sixth 429 LIMIT_EXCEEDED with retry-after to the minute, no bureau called, DENIED logged, use shown everywhere', async () => {
    const N = 5;
    const { id, reader } = await activeWithQuota('quota-minute-desk', { requestsPerMinute: N });
    const before = await metrics();
    // Twenty seconds hold the approval's arrival and the seven requests many times over.
    const window = await awaitWindowRoom('requestsPerMinute', 20_000);

    const people = city.persons.slice(0, N + 1);
    expect((await firstServed(NAME, { id: people[0]!.idNumber }, reader)).body.data.person.name).toEqual(expect.any(String));
    for (const person of people.slice(1, N)) {
      const served = await testCity.graphql(NAME, { id: person.idNumber }, reader);
      expect(served.status).toBe(200);
      expect(served.body.errors).toBeUndefined();
      expect(served.body.data.person.name).toEqual(expect.any(String));
    }

    const { result: refused, calls } = await countingCalls(testCity, () => testCity.graphql(NAME, { id: people[N]!.idNumber }, reader));
    const answeredAt = new Date();
    expect(quotaWindow('requestsPerMinute', answeredAt).start).toEqual(window.start);
    expect(refused.status).toBe(429);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', reason: 'QUOTA_EXCEEDED', quota: { agreementId: id, kind: 'requestsPerMinute', limit: N } });
    expect(refused.body.data ?? null).toBeNull();
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // The seconds left when the gateway answered: at most one more than when the answer was read here.
    expect(retryAfter - secondsUntilWindowEnds('requestsPerMinute', answeredAt)).toBeGreaterThanOrEqual(0);
    expect(retryAfter - secondsUntilWindowEnds('requestsPerMinute', answeredAt)).toBeLessThanOrEqual(1);
    expect(calls).toEqual(NO_CALLS);

    const entry = await loggedEntry(refused.headers.get('x-request-id')!);
    expect(entry.outcome).toBe('DENIED');
    expect(entry.denied).toEqual([expect.objectContaining({ coordinate: 'Person.name', reason: 'QUOTA_EXCEEDED' })]);

    await expect
      .poll(async () => {
        const after = await metrics();
        return {
          limit: sample(after, 'isthmus_agreement_quota_limit', { agreement: id, kind: 'requestsPerMinute' }),
          used: sample(after, 'isthmus_agreement_quota_used', { agreement: id, kind: 'requestsPerMinute' }),
          refusals: sample(after, 'isthmus_quota_refusals_total', { kind: 'requestsPerMinute' }) - sample(before, 'isthmus_quota_refusals_total', { kind: 'requestsPerMinute' }),
          events: sample(after, 'isthmus_security_events_total', { kind: 'QUOTA_REFUSED', reason: 'QUOTA_EXCEEDED' }) - sample(before, 'isthmus_security_events_total', { kind: 'QUOTA_REFUSED', reason: 'QUOTA_EXCEEDED' }),
          denied: sample(after, 'isthmus_access_decisions_total', { outcome: 'DENIED', reason: 'NONE' }) - sample(before, 'isthmus_access_decisions_total', { outcome: 'DENIED', reason: 'NONE' }),
          deniedFields: sample(after, 'isthmus_access_decisions_total', { outcome: 'DENIED_FIELD', reason: 'QUOTA_EXCEEDED' }) - sample(before, 'isthmus_access_decisions_total', { outcome: 'DENIED_FIELD', reason: 'QUOTA_EXCEEDED' }),
        };
      })
      .toEqual({ limit: N, used: N, refusals: 1, events: 1, denied: 1, deniedFields: 1 });

    const shown = await admin('GET', `/agreements/${id}`, officer);
    expect(shown.body.quotaUse).toEqual({ requestsPerMinute: { used: N, limit: N, windowStart: window.start.toISOString(), windowEnd: window.end.toISOString() } });
    let stdout = '';
    const code = await runCli(['agreements', 'show', id, '--url', testCity.gateway.url], { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: () => undefined }, env: { ISTHMUS_TOKEN: officerToken } });
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^quota: +${N} requests/minute \\(used ${N} of ${N} this minute\\)$`, 'm'));
  });

  it('records per day: the list read that crosses the limit is served, the next is refused until midnight in Asia/Shanghai', async () => {
    const LIMIT = 5;
    const { id, reader } = await activeWithQuota('quota-day-desk', { recordsPerDay: LIMIT });
    await awaitWindowRoom('recordsPerDay', 30_000);
    const ids = city.persons.slice(10, 19).map((person) => person.idNumber);

    // 3 records of 5: served; then 3 more, crossing the limit: served in full, as the README's bound says.
    expect((await firstServed(NAMES, { ids: ids.slice(0, 3) }, reader)).body.data.persons).toHaveLength(3);
    const crossing = await testCity.graphql(NAMES, { ids: ids.slice(3, 6) }, reader);
    expect(crossing.status).toBe(200);
    expect(crossing.body.errors).toBeUndefined();
    expect(crossing.body.data.persons.map((person: { name: string | null }) => person.name)).toEqual([expect.any(String), expect.any(String), expect.any(String)]);

    const { result: refused, calls } = await countingCalls(testCity, () => testCity.graphql(NAMES, { ids: ids.slice(6, 9) }, reader));
    const answeredAt = new Date();
    expect(refused.status).toBe(429);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', reason: 'QUOTA_EXCEEDED', quota: { agreementId: id, kind: 'recordsPerDay', limit: LIMIT } });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter - secondsUntilWindowEnds('recordsPerDay', answeredAt)).toBeGreaterThanOrEqual(0);
    expect(retryAfter - secondsUntilWindowEnds('recordsPerDay', answeredAt)).toBeLessThanOrEqual(1);
    expect(calls).toEqual(NO_CALLS);
    expect((await loggedEntry(refused.headers.get('x-request-id')!)).outcome).toBe('DENIED');

    const day = quotaWindow('recordsPerDay', answeredAt);
    const shown = await admin('GET', `/agreements/${id}`, officer);
    // Six records were returned; the store's counter shows at most the limit.
    expect(shown.body.quotaUse).toEqual({ recordsPerDay: { used: LIMIT, limit: LIMIT, windowStart: day.start.toISOString(), windowEnd: day.end.toISOString() } });
  });

  it('a quota the store cannot check: 503 with retry-after and nothing read, then served again once the store answers', async () => {
    // A limit of 5 leases one unit at a time: every request asks the store.
    const { reader } = await activeWithQuota('quota-store-desk', { requestsPerMinute: 5 });
    await awaitWindowRoom('requestsPerMinute', 20_000);
    await firstServed(NAME, { id: city.persons[0]!.idNumber }, reader);
    const db = testCity.gateway.store.db;
    // The counters' table out of reach, as when the store is failing over.
    await sql`alter table agreement_quota_use rename to agreement_quota_use_away`.execute(db);
    try {
      const { result: failed, calls } = await countingCalls(testCity, () => testCity.graphql(NAME, { id: city.persons[1]!.idNumber }, reader));
      expect(failed.status).toBe(503);
      expect(failed.headers.get('retry-after')).toBe('2');
      expect(failed.body.errors?.[0]?.extensions).toMatchObject({ code: 'INTERNAL', reason: 'STORE_UNAVAILABLE' });
      expect(failed.body.data ?? null).toBeNull();
      expect(JSON.stringify(failed.body)).not.toContain('agreement_quota_use');
      expect(calls).toEqual(NO_CALLS);
    } finally {
      await sql`alter table agreement_quota_use_away rename to agreement_quota_use`.execute(db);
    }
    const served = await testCity.graphql(NAME, { id: city.persons[2]!.idNumber }, reader);
    expect(served.status).toBe(200);
    expect(served.body.data.person.name).toEqual(expect.any(String));
  });
});

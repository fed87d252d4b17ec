import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessLogWriter, type AccessLogWriter } from './access-log-writer.ts';
import { readAccessLog, type AccessLogFilters, type AccessLogReadResult } from './access-log-reader.ts';
import { createAccessLogApi } from './access-log-api.ts';
import type { AccessLogEntryInput } from './access-log-entry.ts';
import type { Principal } from '../../policies/principal.ts';
import type { Store } from '../store/store.ts';
import { describeEachStore } from '../../test/support/describe-each-store.ts';
import { createTestSigner, sampleEntry } from '../../test/support/access-log-fixtures.ts';

const A = '110101199003074578';
const B = '110101198507150016';
const C = '440106199912011234';
const E = '91330402MA2JC1234X';
const PS = 'public-security';
const MS = 'market-supervision';
const HRSS = 'human-resources-social-security';

function principal(overrides: Partial<Principal>): Principal {
  return { issuer: 'https://idp.test', subject: randomUUID(), bureau: 'city-office', app: 'console', roles: [], scopes: [], expiresAt: 4_102_444_800, ...overrides };
}

const operator = principal({ roles: ['operator'], user: 'ops-wang' });
const officerOf = (bureau: string) => principal({ roles: ['data_officer'], bureau, user: `officer-${bureau}` });
const citizen = (id: string) => principal({ roles: ['citizen'], bureau: 'one-stop-service', app: 'citizen-app', citizen: id });
const developer = principal({ roles: ['developer'], bureau: MS });

describeEachStore('access log reader on $name', (target) => {
  let store: Store;
  let writer: AccessLogWriter;
  const base = new Date(Date.now() - 60 * 60_000);
  const at = (minutes: number) => new Date(base.getTime() + minutes * 60_000);
  /** The seeded entries only, not the LOG_READ entries the API tests add. */
  const seeded: AccessLogFilters = { from: base, until: at(10) };
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    store = await target.open();
    writer = createAccessLogWriter({ db: store.db, chainId: `gw-${randomUUID()}`, signer: await createTestSigner() });
    const seeds: Record<string, Partial<AccessLogEntryInput>> = {
      e1: { occurredAt: at(1), consumerBureau: MS, providerBureaus: [PS], subjects: [{ kind: 'person', id: A }, { kind: 'person', id: B }], purpose: 'licence review' },
      e2: {
        occurredAt: at(2),
        consumerBureau: HRSS,
        providerBureaus: [PS],
        subjects: [{ kind: 'person', id: A }],
        disclosure: { hiddenUntil: new Date(Date.now() + 30 * 86_400_000), legalReason: 'ongoing fraud investigation' },
      },
      e3: { occurredAt: at(3), consumerBureau: PS, providerBureaus: [MS], subjects: [{ kind: 'enterprise', id: E }], outcome: 'PARTIAL' },
      e4: {
        occurredAt: at(4),
        consumerBureau: MS,
        providerBureaus: [HRSS],
        subjects: [{ kind: 'person', id: C }],
        purpose: 'pension check',
        disclosure: { hiddenUntil: new Date(Date.now() - 86_400_000), legalReason: 'investigation closed' },
      },
      e5: { occurredAt: at(5), consumerBureau: 'housing-fund', providerBureaus: [HRSS, PS], subjects: [{ kind: 'person', id: B }] },
    };
    for (const [name, seed] of Object.entries(seeds)) ids[name] = (await writer.append(sampleEntry(seed))).id;
  });
  afterAll(async () => {
    await writer?.close();
    await store?.close();
  });

  const read = (viewer: Principal, filters: AccessLogFilters = seeded, page = {}) => readAccessLog(store.db, viewer, filters, page);
  const names = (result: AccessLogReadResult) => result.items.map((item) => Object.entries(ids).find(([, id]) => id === item.id)?.[0] ?? item.id);

  it('shows an operator every entry, newest first', async () => {
    const result = await read(operator);
    expect(result.view).toBe('operator');
    expect(names(result)).toEqual(['e5', 'e4', 'e3', 'e2', 'e1']);
  });

  it('shows a data officer the entries where their bureau is the provider or the consumer, hidden ones marked with the legal reason', async () => {
    const ps = await read(officerOf(PS));
    expect(ps.view).toBe('data_officer');
    expect(names(ps)).toEqual(['e5', 'e3', 'e2', 'e1']);
    const e2 = ps.items.find((item) => item.id === ids.e2)!;
    expect(e2).toMatchObject({ hidden: true, disclosure: { legalReason: 'ongoing fraud investigation' }, subjects: [{ kind: 'person', id: A }] });
    expect(ps.items.find((item) => item.id === ids.e1)).toMatchObject({ hidden: false });
    expect(new Set(ps.subjectsShown.map((subject) => subject.id))).toEqual(new Set([A, B, E]));

    expect(names(await read(officerOf(HRSS)))).toEqual(['e5', 'e4', 'e2']);
    expect(names(await read(officerOf(MS)))).toEqual(['e4', 'e3', 'e1']);
    expect(names(await read(officerOf('housing-fund')))).toEqual(['e5']);
    expect((await read(officerOf(HRSS))).items.find((item) => item.id === ids.e4)).toMatchObject({ hidden: false });
  });

  it('shows a citizen only entries about themselves, without other subjects, and none still hidden', async () => {
    const a = await read(citizen(A));
    expect(a.view).toBe('citizen');
    expect(names(a)).toEqual(['e1']);
    expect(Object.keys(a.items[0]!).sort()).toEqual(['action', 'agreementIds', 'clientApp', 'consumerBureau', 'fields', 'id', 'occurredAt', 'outcome', 'providerBureaus', 'purpose']);
    expect(a.items[0]).toMatchObject({ consumerBureau: MS, providerBureaus: [PS], purpose: 'licence review', fields: [{ coordinate: 'Person.name', mask: 'NAME' }, { coordinate: 'Person.address' }] });
    expect(JSON.stringify(a)).not.toContain(B);
    expect(a.subjectsShown).toEqual([{ kind: 'person', id: A }]);

    expect(names(await read(citizen(B)))).toEqual(['e5', 'e1']);
    // e4's disclosure delay has passed.
    expect(names(await read(citizen(C)))).toEqual(['e4']);
    expect(names(await read(citizen('11010119800101000X')))).toEqual([]);
  });

  it('refuses anyone else, a citizen token without a citizen, and a citizen asking about someone else', async () => {
    await expect(read(developer)).rejects.toMatchObject({ code: 'ACCESS_LOG_FORBIDDEN' });
    await expect(read(principal({ roles: ['citizen'] }))).rejects.toMatchObject({ code: 'ACCESS_LOG_FORBIDDEN' });
    await expect(read(citizen(A), { ...seeded, subject: { kind: 'person', id: B } })).rejects.toMatchObject({ code: 'ACCESS_LOG_FORBIDDEN' });
  });

  it('filters by provider, consumer, outcome, purpose, data subject and time', async () => {
    expect(names(await read(operator, { ...seeded, provider: HRSS }))).toEqual(['e5', 'e4']);
    expect(names(await read(operator, { ...seeded, consumer: MS }))).toEqual(['e4', 'e1']);
    expect(names(await read(operator, { ...seeded, outcome: 'PARTIAL' }))).toEqual(['e3']);
    expect(names(await read(operator, { ...seeded, purpose: 'pension check' }))).toEqual(['e4']);
    expect(names(await read(operator, { ...seeded, subject: { kind: 'enterprise', id: E } }))).toEqual(['e3']);
    expect(names(await read(officerOf(PS), { ...seeded, subject: { kind: 'person', id: A } }))).toEqual(['e2', 'e1']);
    expect(names(await read(operator, { from: at(2), until: at(4) }))).toEqual(['e3', 'e2']);
    expect(names(await read(citizen(B), { ...seeded, consumer: 'housing-fund' }))).toEqual(['e5']);
  });

  it('pages with an opaque cursor, without repeats or gaps', async () => {
    const first = await read(operator, seeded, { limit: 2 });
    const second = await read(operator, seeded, { limit: 2, cursor: first.nextCursor });
    const third = await read(operator, seeded, { limit: 2, cursor: second.nextCursor });
    expect([names(first), names(second), names(third)]).toEqual([['e5', 'e4'], ['e3', 'e2'], ['e1']]);
    expect(third.nextCursor).toBeUndefined();
    const citizenFirst = await read(citizen(B), seeded, { limit: 1 });
    expect(names(await read(citizen(B), seeded, { limit: 1, cursor: citizenFirst.nextCursor }))).toEqual(['e1']);
    await expect(read(operator, seeded, { cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'ACCESS_LOG_BAD_QUERY', parameter: 'cursor' });
    await expect(read(operator, seeded, { limit: 501 })).rejects.toMatchObject({ code: 'ACCESS_LOG_BAD_QUERY' });
  });

  describe('GET /access-log', () => {
    const tokens: Record<string, Principal> = { operator, ps: officerOf(PS), citizenA: citizen(A), citizenB: citizen(B), developer };
    const api = () => createAccessLogApi({ db: store.db, writer, authenticate: async (request) => tokens[request.headers.get('authorization')?.replace(/^Bearer /, '') ?? ''] });
    const get = (query: string, token?: string, requestId: string = randomUUID()) =>
      api().request(`/access-log${query}`, { headers: { ...(token && { authorization: `Bearer ${token}` }), 'x-request-id': requestId } });
    const logReadOf = (requestId: string) => store.db.selectFrom('access_log').selectAll().where('request_id', '=', requestId).execute();
    const window = `from=${encodeURIComponent(base.toISOString())}&until=${encodeURIComponent(at(10).toISOString())}`;

    it('answers 401 without a token', async () => {
      const response = await get(`?${window}`);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED', reason: 'TOKEN_MISSING' } }] });
    });

    it('answers 400 to an unknown parameter or a malformed value, naming the parameter', async () => {
      const requestId = `req-${randomUUID()}`;
      for (const [query, field] of [
        ['?provder=x', 'provder'],
        ['?from=yesterday', 'from'],
        ['?outcome=MAYBE', 'outcome'],
        ['?subject=A', 'subject'],
        ['?limit=-1', 'limit'],
        ['?cursor=zzz', 'cursor'],
        // The old, undocumented name of the cursor: one name only.
        ['?after=zzz', 'after'],
      ] as const) {
        const response = await get(query, 'operator', requestId);
        expect(response.status, query).toBe(400);
        expect(await response.json(), query).toMatchObject({ errors: [{ message: expect.any(String), extensions: { code: 'BAD_USER_INPUT', field, requestId } }] });
      }
    });

    it('pages with the nextCursor it answered, as ?cursor=', async () => {
      // Citizen B, whose own reads of the log are about B alone: the other tests' views stay as they are.
      const page = async (query: string) => (await (await get(`?${window}&limit=1${query}`, 'citizenB')).json()) as { items: { id: string }[]; nextCursor?: string };
      const first = await page('');
      expect(first.items.map((item) => item.id)).toEqual([ids.e5]);
      const second = await page(`&cursor=${encodeURIComponent(first.nextCursor!)}`);
      expect(second.items.map((item) => item.id)).toEqual([ids.e1]);
      expect(second.nextCursor).toBeUndefined();
    });

    it('answers another method with 405 and Allow', async () => {
      const response = await api().request('/access-log', { method: 'POST', headers: { authorization: 'Bearer operator', 'content-length': '0' } });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, HEAD');
      expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT', reason: 'METHOD_NOT_ALLOWED' } }] });
    });

    it('refuses a developer with 403 and logs the refused attempt', async () => {
      const requestId = `req-${randomUUID()}`;
      const response = await get(`?${window}`, 'developer', requestId);
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN', reason: 'ACCESS_LOG_FORBIDDEN', requestId } }] });
      const [entry] = await logReadOf(requestId);
      expect(entry).toMatchObject({ action: 'LOG_READ', outcome: 'DENIED', consumer_bureau: MS, subjects: [] });
    });

    it('answers a citizen with their own entries and logs the read, naming only them', async () => {
      const requestId = `req-${randomUUID()}`;
      const response = await get(`?${window}`, 'citizenA', requestId);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { view: string; items: { id: string; occurredAt: string }[] };
      expect(body.view).toBe('citizen');
      expect(body.items.map((item) => item.id)).toEqual([ids.e1]);
      expect(body.items[0]!.occurredAt).toBe(at(1).toISOString());
      const [entry] = await logReadOf(requestId);
      expect(entry).toMatchObject({ action: 'LOG_READ', outcome: 'ALLOWED', citizen: A, roles: ['citizen'], subjects: [{ kind: 'person', id: A }], provider_bureaus: [PS] });
    });

    it('logs an officer’s read with every subject shown, which the citizens then see', async () => {
      const requestId = `req-${randomUUID()}`;
      const response = await get(`?${window}`, 'ps', requestId);
      expect(response.status).toBe(200);
      const [entry] = await logReadOf(requestId);
      expect(new Set(entry!.subjects.map((subject) => subject.id))).toEqual(new Set([A, B, E]));
      expect(entry).toMatchObject({ action: 'LOG_READ', consumer_bureau: PS, user_id: `officer-${PS}` });

      // Citizen A sees that public security read log entries about them, but not their own reads of the log.
      const mine = await readAccessLog(store.db, citizen(A), {});
      const logReads = mine.items.filter((item) => item.action === 'LOG_READ');
      expect(logReads.map((item) => item.consumerBureau)).toEqual([PS]);
    });

    it('answers 503 and shows nothing when the read cannot be logged', async () => {
      const closed = createAccessLogWriter({ db: store.db, chainId: `gw-${randomUUID()}`, signer: await createTestSigner() });
      await closed.close();
      const response = await createAccessLogApi({ db: store.db, writer: closed, authenticate: async () => operator }).request(`/access-log?${window}`);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('2');
      const body = await response.text();
      expect(JSON.parse(body)).toMatchObject({ errors: [{ extensions: { code: 'INTERNAL', reason: 'ACCESS_LOG_UNAVAILABLE' } }] });
      expect(body).not.toContain(ids.e1!);
    });
  });
});

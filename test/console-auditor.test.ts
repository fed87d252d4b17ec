import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAccessLogApi } from '../gateway/access-log/access-log-api.ts';
import { createAccessLogWriter, type AccessLogWriter } from '../gateway/access-log/access-log-writer.ts';
import { createAgreementStore, type AgreementStore } from '../gateway/agreements/agreement-store.ts';
import { openDevIssuer, type DevIssuer } from '../gateway/auth/dev-issuer.ts';
import { createTokenVerifier } from '../gateway/auth/verify-token.ts';
import { csvCell } from '../gateway/console/access-log-csv.ts';
import { createConsole } from '../gateway/console/console-app.ts';
import type { ConsolePersona } from '../gateway/console/console-persona.ts';
import type { Store } from '../gateway/store/store.ts';
import type { Role } from '../policies/principal.ts';
import { createTestSigner, sampleEntry } from './support/access-log-fixtures.ts';
import { demoCatalogue, principal, storeActive, storePending } from './support/agreement-fixtures.ts';
import { describeEachStore } from './support/describe-each-store.ts';

/**
 * The auditor's and the citizen's pages in-process, on each store: the
 * reader's view rules decide what each sees (the whole log, the bureau's
 * rows, the citizen's own reads after their disclosure delay), every read of
 * the log is itself in the log, every console action is in the append-only
 * trail, and an auditor changes nothing.
 */

const ORIGIN = 'http://127.0.0.1:4000';
const DAY_MS = 86_400_000;
/** The disclosure delay of the test's hidden read: shorter than a session's idle timeout, so the clock can pass it within one session. */
const DELAY_MS = 10 * 60_000;

/** A generated resident ID number (18 characters, never a real person's): unique per test run. */
function generatedIdNumber(): string {
  return `9900${String(Math.floor(Math.random() * 1e13)).padStart(13, '0')}X`;
}

function persona(id: string, bureau: string, user: string, role: Role, citizen?: string): ConsolePersona {
  return { id, name: { zh: user, en: user }, claims: { bureau, app: 'isthmus-console', user, roles: [role], ...(citizen ? { citizen } : {}) } };
}

/** Cookies kept between requests, and the CSRF token of the last page. */
function browserOf(app: Hono) {
  const cookies = new Map<string, string>();
  let csrf = '';
  const send = async (path: string, init: RequestInit = {}) => {
    const cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await app.request(`${ORIGIN}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) } });
    for (const line of response.headers.getSetCookie()) {
      const [name, value] = line.split(';')[0]!.split('=') as [string, string];
      cookies.set(name, value);
    }
    const body = await response.text();
    csrf = /name="_csrf" value="([^"]*)"/.exec(body)?.[1] ?? csrf;
    return { status: response.status, body, headers: response.headers, location: response.headers.get('location') };
  };
  const post = (path: string, fields: Record<string, string>) =>
    send(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, ...fields }).toString() });
  return {
    get: (path: string) => send(path),
    /** A download: the raw answer, with the session's cookies. */
    download: (path: string) => app.request(`${ORIGIN}${path}`, { headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') } }),
    post,
    async signIn(id: string) {
      await send('/console/sign-in');
      const answer = await post('/console/sign-in/persona', { persona: id });
      expect(answer.status, answer.body).toBe(303);
      return send(answer.location!);
    },
  };
}

describeEachStore('the auditor and citizen pages on $name', (target) => {
  let store: Store;
  let agreements: AgreementStore;
  let writer: AccessLogWriter;
  let dev: DevIssuer;
  let app: Hono;
  let clock = new Date();
  const run = randomUUID().slice(0, 8);
  const citizen = generatedIdNumber();
  const otherCitizen = generatedIdNumber();
  /** Consumer bureaus of this run only, so the store's other rows never meet these tests. */
  const consumer = `audit-test-consumer-${run}`;
  const agreementId = `agr-audit-${target.name}-${run}`;
  const personas = [
    persona('auditor', 'audit-office', 'u-xu', 'auditor'),
    persona('ps-officer', 'public-security', 'u-li', 'data_officer'),
    persona('ms-officer', 'market-supervision', 'u-ma', 'data_officer'),
    persona('citizen', 'government-service-centre', 'resident', 'citizen', citizen),
    persona('operator', 'isthmus-operations', 'u-op', 'operator'),
  ];

  beforeAll(async () => {
    store = await target.open();
    agreements = createAgreementStore(store.db);
    writer = createAccessLogWriter({ db: store.db, chainId: `console-audit-${run}`, signer: await createTestSigner(), checkpointEvery: 1, now: () => clock });
    dev = await openDevIssuer({ keysDir: undefined });
    await storeActive(agreements, agreementId, new Date(Date.now() - DAY_MS));
    const now = Date.now();
    // Public security read for this run's consumer about the citizen; market supervision read a company; a read under a disclosure delay.
    await writer.append(sampleEntry({ occurredAt: new Date(now - 3_000), consumerBureau: consumer, agreementIds: [agreementId], subjects: [{ kind: 'person', id: citizen }], purpose: 'pension-review' }));
    await writer.append(sampleEntry({ occurredAt: new Date(now - 2_000), consumerBureau: consumer, providerBureaus: ['market-supervision'], subjects: [{ kind: 'enterprise', id: `91330000${run}` }], purpose: '=HYPERLINK("x"),"quoted"' }));
    await writer.append(
      sampleEntry({
        occurredAt: new Date(now - 1_000),
        consumerBureau: consumer,
        agreementIds: [agreementId],
        subjects: [{ kind: 'person', id: citizen }, { kind: 'person', id: otherCitizen }],
        fieldsReturned: [{ coordinate: 'Person.address' }],
        disclosure: { hiddenUntil: new Date(now + DELAY_MS), legalReason: 'an investigation under way' },
      }),
    );
    const verifier = createTokenVerifier({ issuers: [dev.issuerConfig] });
    app = new Hono().route(
      '/console',
      createConsole({ agreements, catalogue: demoCatalogue(), verifier, personas: { issuer: dev, list: personas }, now: () => clock, accessLog: { db: store.db, writer } }),
    );
  });
  afterAll(async () => {
    await writer?.close();
    await store?.close();
  });

  const logReadsBy = async (user: string) =>
    (await store.db.selectFrom('access_log').select(['operation_name', 'subjects']).where('action', '=', 'LOG_READ').where('user_id', '=', user).execute()).map((row) => row.operation_name);

  it('an auditor finds a read by its subject across bureaus, opens it, and both looks are in the access log', async () => {
    clock = new Date();
    const auditor = browserOf(app);
    await auditor.signIn('auditor');
    const all = await auditor.get(`/console/audit/log?consumer=${consumer}`);
    expect(all.status, all.body).toBe(200);
    expect(all.body.match(/href="\/console\/audit\/log\/[0-9a-f-]{36}"/g)).toHaveLength(3);
    const found = await auditor.get(`/console/audit/log?consumer=${consumer}&subjectKind=person&subject=${citizen}`);
    const links = [...found.body.matchAll(/href="(\/console\/audit\/log\/[0-9a-f-]{36})"/g)].map((match) => match[1]!);
    expect(links).toHaveLength(2);
    const entry = await auditor.get(links.at(-1)!);
    expect(entry.status).toBe(200);
    expect(entry.body).toContain(citizen);
    expect(entry.body).toContain(agreementId);
    expect(await logReadsBy('u-xu')).toEqual(expect.arrayContaining(['console GET /audit/log', 'console GET /audit/log/:id']));
    const shown = await store.db.selectFrom('access_log').select('subjects').where('action', '=', 'LOG_READ').where('user_id', '=', 'u-xu').execute();
    expect(shown.some((row) => row.subjects.some((subject) => subject.id === citizen))).toBe(true);
  });

  it('an auditor token reads the whole log through the access log API too, under the auditor view', async () => {
    const api = createAccessLogApi({ authenticate: async () => principal('u-xu', 'audit-office', ['auditor']), db: store.db, writer });
    const answer = await api.request(`/access-log?consumer=${consumer}&agreement=${agreementId}`);
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { view: string; items: unknown[] };
    expect(body.view).toBe('auditor');
    expect(body.items).toHaveLength(2);
  });

  it("a data officer sees their own bureau's rows only, and another bureau's entry is not found", async () => {
    const auditor = browserOf(app);
    await auditor.signIn('auditor');
    const everything = await auditor.get(`/console/audit/log?consumer=${consumer}`);
    const ids = [...everything.body.matchAll(/href="\/console\/audit\/log\/([0-9a-f-]{36})"/g)].map((match) => match[1]!);
    const officer = browserOf(app);
    await officer.signIn('ms-officer');
    const own = await officer.get(`/console/audit/log?consumer=${consumer}`);
    expect(own.status).toBe(200);
    const visible = [...own.body.matchAll(/href="\/console\/audit\/log\/([0-9a-f-]{36})"/g)].map((match) => match[1]!);
    expect(visible).toHaveLength(1);
    const hidden = ids.find((id) => !visible.includes(id))!;
    expect((await officer.get(`/console/audit/log/${hidden}`)).status).toBe(404);
    expect((await officer.get('/console/audit/verify')).status).toBe(403);
    expect((await officer.get('/console/audit/trail')).status).toBe(403);
  });

  it('an auditor cannot approve, reject or revoke: every POST of the data officer pages is refused and nothing changes', async () => {
    const pending = await storePending(agreements, `${agreementId}-pending`, new Date());
    const auditor = browserOf(app);
    await auditor.signIn('auditor');
    for (const [id, decision] of [
      [pending.id, 'approve'],
      [pending.id, 'reject'],
      [agreementId, 'revoke'],
    ] as const) {
      const version = String((await agreements.get(id))!.agreement.version);
      const answer = await auditor.post(`/console/agreements/${id}/${decision}`, { version, ...(decision === 'approve' ? {} : { reason: 'an auditor trying' }) });
      expect(answer.status, `${decision} ${id}`).toBe(403);
    }
    expect((await agreements.get(pending.id))!.agreement.status).toBe('PENDING');
    expect((await agreements.get(agreementId))!.agreement.status).toBe('ACTIVE');
  });

  it('exports the filtered log as BOM-free UTF-8 CSV with RFC 4180 quoting, and as JSONL; the export is in the trail', async () => {
    const auditor = browserOf(app);
    await auditor.signIn('auditor');
    const response = await auditor.download(`/console/audit/export/csv?consumer=${consumer}`);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="isthmus-access-log-\d{4}-\d{2}-\d{2}\.csv"$/);
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect([...bytes.slice(0, 3)]).not.toEqual([0xef, 0xbb, 0xbf]);
    const csv = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    const lines = csv.split('\r\n');
    expect(lines[0]!.startsWith('occurred_at,id,chain_id,seq,')).toBe(true);
    expect(lines.filter(Boolean)).toHaveLength(4);
    expect(csv).toContain(`"'=HYPERLINK(""x""),""quoted"""`);
    const jsonl = await (await auditor.download(`/console/audit/export/jsonl?consumer=${consumer}`)).text();
    const rows = jsonl.trim().split('\n').map((line) => JSON.parse(line) as { purpose?: string; consumerBureau: string });
    expect(rows.map((row) => row.consumerBureau)).toEqual([consumer, consumer, consumer]);
    expect(rows.map((row) => row.purpose)).toContain('=HYPERLINK("x"),"quoted"');
    const trail = await store.db.selectFrom('console_audit').selectAll().where('action', '=', 'EXPORT').where('user_id', '=', 'u-xu').execute();
    expect(trail.map((row) => row.target).sort()).toEqual(['csv', 'jsonl']);
    expect(await logReadsBy('u-xu')).toEqual(expect.arrayContaining(['console GET /audit/export/csv', 'console GET /audit/export/jsonl']));
  });

  it('quotes cells the way RFC 4180 says and defuses formulas', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    // A line break or an escape in a stored value is written inert: it cannot forge a row or steer a reader (issue 13).
    expect(csvCell('line\nbreak')).toBe('line\\u000abreak');
    expect(csvCell('hidden\u001b[8m,x')).toBe('"hidden\\u001b[8m,x"');
    expect(csvCell('+1')).toBe(`"'+1"`);
    expect(csvCell('居民')).toBe('居民');
  });

  it('an auditor runs verification from the console; the run, the sign-in and the sign-out are in the trail, which refuses changes', async () => {
    const auditor = browserOf(app);
    await auditor.signIn('auditor');
    await auditor.get('/console/audit/verify');
    const result = await auditor.post('/console/audit/verify', {});
    expect(result.status).toBe(200);
    expect(result.body).toContain('校验通过');
    const trailPage = await auditor.get('/console/audit/trail');
    expect(trailPage.body).toContain('校验访问日志');
    expect(trailPage.body).toContain('登录');
    await auditor.post('/console/sign-out', {});
    const actions = (await store.db.selectFrom('console_audit').select('action').where('user_id', '=', 'u-xu').execute()).map((row) => row.action);
    expect(actions).toEqual(expect.arrayContaining(['SIGN_IN', 'VERIFY', 'SIGN_OUT']));
    await expect(sql`update console_audit set outcome = 'REFUSED'`.execute(store.db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from console_audit`.execute(store.db)).rejects.toThrow(/append-only/);
  });

  it('a citizen sees who read their data, in plain words with the legal basis; a read under a disclosure delay appears only once the delay ends', async () => {
    clock = new Date();
    const resident = browserOf(app);
    await resident.signIn('citizen');
    const page = await resident.get('/console/citizen/reads');
    expect(page.status, page.body).toBe(200);
    const legalBasis = (await agreements.get(agreementId))!.agreement.legalBasis;
    // The auditor's reads of the log about this citizen are shown too (the reader's rule); these are the bureau's reads.
    const bureauReads = (body: string) => body.match(new RegExp(`<h2>${consumer}`, 'g')) ?? [];
    expect(bureauReads(page.body)).toHaveLength(1);
    expect(page.body).toContain('姓名');
    expect(page.body).not.toContain('Person.name');
    expect(page.body).toContain(legalBasis);
    expect(page.body).not.toContain(otherCitizen);
    expect(await logReadsBy('resident')).toContain('console GET /citizen/reads');

    // Twenty minutes on, the delay has ended: the same session now sees the second read.
    clock = new Date(Date.now() + 2 * DELAY_MS);
    const later = resident;
    const after = await later.get('/console/citizen/reads');
    expect(after.status, after.body.slice(0, 3000)).toBe(200);
    expect(bureauReads(after.body)).toHaveLength(2);
    expect(after.body).toContain('户籍地址');
    expect(after.body).not.toContain(otherCitizen);
    // A citizen is no auditor.
    expect((await later.get('/console/audit/log')).status).toBe(403);
  });

  it('signing in leads an auditor to the access log and a citizen to their reads; an operator’s home names the log and where the rest of the work is', async () => {
    clock = new Date();
    const landing = async (id: string) => {
      const visitor = browserOf(app);
      await visitor.get('/console/sign-in');
      return (await visitor.post('/console/sign-in/persona', { persona: id })).location;
    };
    expect(await landing('auditor')).toBe('/console/audit/log');
    expect(await landing('citizen')).toBe('/console/citizen/reads');
    expect(await landing('ps-officer')).toBe('/console/inbox');
    expect(await landing('operator')).toBe('/console');
    const operator = browserOf(app);
    const home = await operator.signIn('operator');
    expect(home.status).toBe(200);
    expect(home.body).toContain('href="/console/audit/log"');
    expect(home.body).toContain('/healthz');
    expect(home.body).not.toContain('后续版本');
  });
});

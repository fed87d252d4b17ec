import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAccessLogWriter } from '../gateway/access-log/access-log-writer.ts';
import { readAgreementUse } from '../gateway/access-log/agreement-use.ts';
import { createAgreementStore, type AgreementStore } from '../gateway/agreements/agreement-store.ts';
import { openDevIssuer } from '../gateway/auth/dev-issuer.ts';
import { createTokenVerifier } from '../gateway/auth/verify-token.ts';
import { createQuotaStore } from '../gateway/quotas/quota-store.ts';
import { readQuotaUse } from '../gateway/quotas/quota-use.ts';
import { loadWorkingCalendar } from '../gateway/calendar/load-working-calendar.ts';
import { createConsole } from '../gateway/console/console-app.ts';
import type { ConsolePersona } from '../gateway/console/console-persona.ts';
import type { Store } from '../gateway/store/store.ts';
import { addWorkingDays } from '../policies/working-calendar.ts';
import { quotaWindow } from '../policies/quota-window.ts';
import { rejectAgreement } from '../policies/agreement-lifecycle.ts';
import type { Role } from '../policies/principal.ts';
import { createTestSigner, sampleEntry } from './support/access-log-fixtures.ts';
import { demoCatalogue, people, storeActive, storePending } from './support/agreement-fixtures.ts';
import { describeEachStore } from './support/describe-each-store.ts';

/**
 * The requesting bureau's console pages in-process, on each store: filing a
 * request through the form (as a draft, or submitted with a reply-by date of
 * the national calendar), submitting a draft, refusals in both languages with
 * the rule's own words and nothing stored, rejection reasons, the bureau's
 * catalogue, and an agreement's use charted from the access log.
 */

/** Thursday 12 February 2026, 10:00 in Shanghai: the Spring Festival break starts on Sunday. */
const BEFORE_SPRING_FESTIVAL = new Date('2026-02-12T02:00:00Z');
const { calendar } = loadWorkingCalendar();

const persona = (id: string, bureau: string, user: string, role: Role): ConsolePersona => ({ id, name: { zh: user, en: user }, claims: { bureau, app: 'isthmus-console', user, roles: [role] } });
const PERSONAS = [
  persona('requester', 'human-resources-social-security', 'u-wang', 'developer'),
  persona('provider-officer', 'public-security', 'u-li', 'data_officer'),
  persona('auditor', 'audit-office', 'u-xu', 'auditor'),
];

/** Keeps cookies and the last page's CSRF token. */
function browserOf(app: Hono, language = 'zh-CN') {
  const cookies = new Map<string, string>();
  let csrf = '';
  const send = async (path: string, init: RequestInit = {}) => {
    const headers = { 'accept-language': language, cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '), ...(init.headers as Record<string, string>) };
    const response = await app.request(`http://127.0.0.1:4000${path}`, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const [name, value] = line.split(';')[0]!.split('=') as [string, string];
      cookies.set(name, value);
    }
    const html = await response.text();
    csrf = /name="_csrf" value="([^"]*)"/.exec(html)?.[1] ?? csrf;
    return { status: response.status, html, location: response.headers.get('location') };
  };
  const post = (path: string, fields: Record<string, string>) =>
    send(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, ...fields }).toString() });
  return {
    get: (path: string) => send(path),
    post,
    async signIn(id: string) {
      await send('/console/sign-in');
      expect((await post('/console/sign-in/persona', { persona: id })).status).toBe(303);
    },
  };
}

/** The form as a developer fills it in for two public security fields. */
const filledForm = (overrides: Record<string, string> = {}) => ({
  consumerApp: 'pension-service',
  'field:Person.name': 'on',
  'field:Person.address': 'on',
  'mask:Person.address': 'ADDRESS',
  purpose: 'pension-eligibility-check',
  legalBasis: '《社会保险法》第七十三条及本市数据共享条例第十二条',
  rowScope: 'ANY',
  validFrom: '2026-02-12',
  validUntil: '2027-02-12',
  action: 'submit',
  ...overrides,
});

describeEachStore('the requesting bureau in the console on $name', (target) => {
  let store: Store;
  let agreements: AgreementStore;
  let app: Hono;
  let ids = 0;
  const prefix = `agr-req-${randomUUID().slice(0, 6)}`;

  beforeAll(async () => {
    store = await target.open();
    agreements = createAgreementStore(store.db);
    const dev = await openDevIssuer({ keysDir: undefined });
    app = new Hono().route(
      '/console',
      createConsole({
        agreements,
        catalogue: demoCatalogue(),
        verifier: createTokenVerifier({ issuers: [dev.issuerConfig] }),
        personas: { issuer: dev, list: PERSONAS },
        now: () => BEFORE_SPRING_FESTIVAL,
        lifecycle: { workingDaysToReply: 10, calendar },
        agreementUse: (id, range, signal) => readAgreementUse(store.db, id, range, signal),
        quotaUse: (agreement, at) => readQuotaUse(createQuotaStore(store.db), agreement, at),
      }),
    );
  });
  afterAll(async () => {
    await store?.close();
  });

  const mine = async () => (await agreements.list({ consumer: 'human-resources-social-security', limit: 200 })).items.filter((a) => a.purpose.startsWith('pension-'));

  it('files a request through the form, with the reply-by date of the national calendar, and lists it', async () => {
    const browser = browserOf(app);
    await browser.signIn('requester');
    const form = await browser.get('/console/requests/new');
    expect(form.status).toBe(200);
    // A NONE field is shown with the reason, but has no box to tick.
    expect(form.html).toContain('Person.householdId');
    expect(form.html).not.toContain('name="field:Person.householdId"');
    expect(form.html).toContain('不予共享：此字段不离开提供方部门，不能申请。');
    const before = (await mine()).length;
    const filed = await browser.post('/console/requests', filledForm({ purpose: 'pension-filed-in-console' }));
    expect(filed.status, filed.html).toBe(303);
    expect(filed.location).toBe('/console/requests?done=filed');
    const stored = (await mine()).find((a) => a.purpose === 'pension-filed-in-console')!;
    expect(stored).toMatchObject({ status: 'PENDING', providerBureau: 'public-security', fields: ['Person.name', 'Person.address'], masks: { 'Person.address': 'ADDRESS' }, requestedBy: 'u-wang' });
    // Ten working days counted past the Spring Festival break: Wednesday 4 March, not Thursday 26 February.
    expect(stored.replyBy).toBe(addWorkingDays(BEFORE_SPRING_FESTIVAL, 10, calendar).toISOString());
    expect(stored.replyBy).toBe('2026-03-04T02:00:00.000Z');
    // The form's "from today" starts the window when the request is made (a window may not start in the past).
    expect(stored.validFrom).toBe(BEFORE_SPRING_FESTIVAL.toISOString());
    expect((await mine()).length).toBe(before + 1);
    const list = await browser.get('/console/requests?done=filed');
    expect(list.html).toContain(stored.id);
    expect(list.html).toContain('还剩 10 个工作日');
  });

  it('saves a draft, then submits it from the list', async () => {
    const browser = browserOf(app, 'en');
    await browser.signIn('requester');
    await browser.get('/console/requests/new');
    expect((await browser.post('/console/requests', filledForm({ purpose: 'pension-draft-first', action: 'draft' }))).location).toBe('/console/requests?done=saved');
    const draft = (await mine()).find((a) => a.purpose === 'pension-draft-first')!;
    expect(draft.status).toBe('DRAFT');
    const list = await browser.get('/console/requests');
    expect(list.html).toContain(`/console/requests/${draft.id}/submit`);
    const submitted = await browser.post(`/console/requests/${draft.id}/submit`, { version: String(draft.version) });
    expect(submitted.location).toBe('/console/requests?done=submitted');
    expect((await agreements.get(draft.id))!.agreement).toMatchObject({ status: 'PENDING', replyBy: '2026-03-04T02:00:00.000Z' });
    // Submitting it again is the lifecycle's conflict, shown in English with the rule's words.
    const again = await browser.post(`/console/requests/${draft.id}/submit`, { version: '2' });
    expect(again.status).toBe(409);
    expect(again.html).toContain('only a DRAFT can be submitted');
  });

  it.each([
    ['zh-CN', '申请条款不符合规则（fields[0]）。', '申请未保存。'],
    ['en', 'A term of the request breaks the rules (fields[0]).', 'The request was not saved.'],
  ])('refuses a NONE field posted by hand in %s, with the rule\'s words, and stores nothing', async (language, says, notSaved) => {
    const browser = browserOf(app, language);
    await browser.signIn('requester');
    await browser.get('/console/requests/new');
    const before = (await mine()).length;
    const refused = await browser.post('/console/requests', filledForm({ 'field:Person.name': '', 'field:Person.address': '', 'mask:Person.address': '', 'field:Person.householdId': 'on' }));
    expect(refused.status).toBe(400);
    expect(refused.html).toContain(says);
    expect(refused.html).toContain(notSaved);
    expect(refused.html).toContain('Person.householdId is of sharing category NONE');
    // What was typed is kept.
    expect(refused.html).toContain('value="pension-eligibility-check"');
    expect((await mine()).length).toBe(before);
  });

  it('refuses a request from someone who may not request, and an unknown form field', async () => {
    const auditor = browserOf(app);
    await auditor.signIn('auditor');
    expect((await auditor.get('/console/requests')).status).toBe(403);
    const browser = browserOf(app);
    await browser.signIn('requester');
    await browser.get('/console/requests/new');
    const odd = await browser.post('/console/requests', filledForm({ consumerBureau: 'public-security' }));
    expect(odd.status).toBe(400);
    expect(odd.html).toContain('提交的表单无法识别');
  });

  it("shows the provider's reasons of a rejection to the requester", async () => {
    const id = `${prefix}-${++ids}`;
    const request = await storePending(agreements, id, BEFORE_SPRING_FESTIVAL, { purpose: 'pension-to-reject' });
    const rejected = rejectAgreement(request, people.providerOfficer, { reason: '申请的住址字段超出养老金资格核查的必要范围' }, BEFORE_SPRING_FESTIVAL);
    if (!rejected.ok) throw new Error(rejected.message);
    await agreements.transition(rejected);
    const browser = browserOf(app);
    await browser.signIn('requester');
    const list = await browser.get('/console/requests');
    expect(list.html).toContain('申请的住址字段超出养老金资格核查的必要范围');
    expect(list.html).toContain('已驳回');
  });

  it("shows the provider's catalogue with the agreements in force that share each field", async () => {
    const id = `${prefix}-${++ids}`;
    await storeActive(agreements, id, BEFORE_SPRING_FESTIVAL, { purpose: 'pension-in-force', validFrom: BEFORE_SPRING_FESTIVAL.toISOString() });
    const browser = browserOf(app, 'en');
    await browser.signIn('provider-officer');
    const page = await browser.get('/console/catalogue');
    expect(page.status).toBe(200);
    expect(page.html).toContain('Person.householdId');
    const row = page.html.split('<tr>').find((tr) => tr.includes('<code>Person.name</code>'))!;
    expect(row).toContain(`/console/agreements/${id}`);
    const household = page.html.split('<tr>').find((tr) => tr.includes('<code>Person.householdId</code>'))!;
    expect(household).toContain('Not shared');
    expect(household).toContain('Never shared');
  });

  it("charts an agreement's reads per day and app from the access log", async () => {
    const id = `${prefix}-${++ids}`;
    await storeActive(agreements, id, new Date('2026-02-10T02:00:00Z'), { purpose: 'pension-charted' });
    let clock = new Date('2026-02-11T02:00:00Z');
    const writer = createAccessLogWriter({ db: store.db, chainId: `gw-${randomUUID()}`, signer: await createTestSigner(), now: () => clock });
    await writer.ready();
    for (const [at, app] of [['2026-02-11T02:00:00Z', 'pension-service'], ['2026-02-11T03:00:00Z', 'pension-service'], ['2026-02-12T01:00:00Z', 'pension-batch']] as const) {
      clock = new Date(at);
      await writer.append(sampleEntry({ occurredAt: clock, clientApp: app, agreementIds: [id], consumerBureau: 'human-resources-social-security' }));
    }
    await writer.close();
    const browser = browserOf(app);
    await browser.signIn('provider-officer');
    const page = await browser.get(`/console/agreements/${id}`);
    expect(page.status).toBe(200);
    expect(page.html).toMatch(/<svg viewBox="0 0 640 200" role="img" aria-label="按天的读取次数柱状图，共 3 次/);
    expect(page.html.match(/<rect /g)).toHaveLength(2);
    const table = page.html.slice(page.html.indexOf('<table class="usage-table">'));
    expect(table).toContain('<th scope="row"><time datetime="2026-02-11">2026-02-11</time></th><td>pension-service</td><td>2</td>');
    expect(table).toContain('<td>pension-batch</td><td>1</td>');
  });

  it('takes an optional quota through the form and stores it as the term', async () => {
    const browser = browserOf(app);
    await browser.signIn('requester');
    const form = await browser.get('/console/requests/new');
    expect(form.html).toContain('<legend>用量配额（可选）</legend>');
    expect(form.html).toMatch(/<input id="quotaPerMinute" name="quotaPerMinute" type="number"[^>]* value="">/);
    const filed = await browser.post('/console/requests', filledForm({ purpose: 'pension-with-quota', quotaPerMinute: '30', quotaPerDay: '' }));
    expect(filed.status, filed.html).toBe(303);
    expect((await mine()).find((a) => a.purpose === 'pension-with-quota')?.quota).toEqual({ requestsPerMinute: 30 });
    const both = await browser.post('/console/requests', filledForm({ purpose: 'pension-with-quotas', quotaPerMinute: ' 12 ', quotaPerDay: '5000', action: 'draft' }));
    expect(both.status, both.html).toBe(303);
    expect((await mine()).find((a) => a.purpose === 'pension-with-quotas')?.quota).toEqual({ requestsPerMinute: 12, recordsPerDay: 5000 });
    // Both boxes empty: no quota at all.
    expect((await browser.post('/console/requests', filledForm({ purpose: 'pension-without-quota', quotaPerMinute: '', quotaPerDay: '' }))).status).toBe(303);
    expect('quota' in (await mine()).find((a) => a.purpose === 'pension-without-quota')!).toBe(false);
  });

  it.each([
    ['zh-CN', 'quotaPerMinute', '0', '请填写 1 到 60,000 之间的整数，或留空。', '申请条款不符合规则（quota.requestsPerMinute）。'],
    ['en', 'quotaPerMinute', '-3', 'Enter a whole number from 1 to 60,000, or leave it empty.', 'A term of the request breaks the rules (quota.requestsPerMinute).'],
    ['zh-CN', 'quotaPerDay', '2.5', '请填写 1 到 10,000,000 之间的整数，或留空。', '申请条款不符合规则（quota.recordsPerDay）。'],
    ['en', 'quotaPerDay', 'many', 'Enter a whole number from 1 to 10,000,000, or leave it empty.', 'A term of the request breaks the rules (quota.recordsPerDay).'],
  ])('in %s refuses %s = %j beside the box, with the rule\'s words, and stores nothing', async (language, box, typed, beside, says) => {
    const browser = browserOf(app, language);
    await browser.signIn('requester');
    await browser.get('/console/requests/new');
    const before = (await mine()).length;
    const refused = await browser.post('/console/requests', filledForm({ purpose: 'pension-bad-quota', [box]: typed }));
    expect(refused.status).toBe(400);
    expect(refused.html).toContain(says);
    expect(refused.html).toContain('must be a whole number from 1 to');
    // The box is marked, keeps what was typed, and the reason is right after it, tied to it for screen readers.
    expect(refused.html).toMatch(new RegExp(`<input id="${box}" name="${box}" [^>]*value="${typed.replace('.', '\\.')}" aria-invalid="true" aria-describedby="${box}-error">\\s*<p id="${box}-error" class="field-error">${beside}</p>`));
    // The other box is not marked.
    const other = box === 'quotaPerMinute' ? 'quotaPerDay' : 'quotaPerMinute';
    expect(refused.html).not.toContain(`aria-describedby="${other}-error"`);
    expect((await mine()).length).toBe(before);
  });

  it("shows an agreement's quota with this minute's and today's use beside each limit, from the shared counters", async () => {
    const id = `${prefix}-${++ids}`;
    const agreement = await storeActive(agreements, id, BEFORE_SPRING_FESTIVAL, { purpose: 'pension-metered', validFrom: BEFORE_SPRING_FESTIVAL.toISOString(), quota: { requestsPerMinute: 20, recordsPerDay: 5000 } });
    const quotas = createQuotaStore(store.db);
    // As replicas lease them, in the windows of the console's clock.
    expect(await quotas.lease(id, 'requestsPerMinute', quotaWindow('requestsPerMinute', BEFORE_SPRING_FESTIVAL).start, 3, 20)).toBe(3);
    expect(await quotas.lease(id, 'recordsPerDay', quotaWindow('recordsPerDay', BEFORE_SPRING_FESTIVAL).start, 1200, 5000)).toBe(1200);
    const zh = browserOf(app);
    await zh.signIn('provider-officer');
    const page = await zh.get(`/console/agreements/${agreement.id}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('<dt>用量配额</dt><dd>每分钟 20 次请求 · 本分钟已用 3/20; 每日 5,000 条记录（北京时间） · 今日已用 1,200/5,000</dd>');
    const en = browserOf(app, 'en');
    await en.signIn('provider-officer');
    expect((await en.get(`/console/agreements/${agreement.id}`)).html).toContain('<dd>20 requests a minute · 3 of 20 used this minute; 5,000 records a day (Asia/Shanghai) · 1,200 of 5,000 used today</dd>');
  });
});

import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sampleResident } from '../examples/demo-city.ts';
import { createTranslator } from '../gateway/console/i18n/translator.ts';
import type { ConsolePersona } from '../gateway/console/console-persona.ts';
import { createSecurityEventStore } from '../gateway/observability/security-event-store.ts';
import { describeEachStore } from './support/describe-each-store.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';
import { waitFor } from './support/wait-for.ts';

/**
 * The console's security events page through a running gateway, on each
 * store: refusals provoked for real (malformed tokens on `/graphql`, an
 * operation over the depth limit, pages refused to the wrong roles) are
 * shown to an auditor and an operator with their kind and reason in words,
 * who, the address, the request id and the city's time, in zh-CN and en;
 * the filters and the cursor page; the CSV export holds the filtered rows;
 * every view and export is in the console trail; a citizen and a data
 * officer get the 403 page in their language; no token text is ever shown.
 */

const OPERATOR: ConsolePersona = { id: 'operator', name: { zh: '林运', en: 'Lin Yun' }, claims: { bureau: 'big-data-bureau', app: 'isthmus-console', user: 'lin.yun@big-data-bureau', roles: ['operator'] } };
/** Deeper than the test city's ISTHMUS_MAX_DEPTH of 2: refused as a whole, before any bureau is called. */
const TOO_DEEP = `query Deep($id: ID!) { person(idNumber: $id) { socialInsurance { monthlyBase } } }`;
const BAD_TOKENS = 55;

/** A console visitor over real HTTP: its cookies, its language, the CSRF token of its last page. */
function visitor(base: string, language: 'zh-CN' | 'en') {
  const cookies = new Map<string, string>();
  let csrf = '';
  const send = async (path: string, init: { method?: string; body?: URLSearchParams } = {}) => {
    const cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(`${base}${path}`, {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: { 'accept-language': language, ...(cookie ? { cookie } : {}), ...(init.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(init.body ? { body: init.body.toString() } : {}),
      signal: AbortSignal.timeout(15_000),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    const body = await response.text();
    csrf = /name="_csrf" value="([^"]*)"/.exec(body)?.[1] ?? csrf;
    return { status: response.status, body, headers: response.headers, location: response.headers.get('location') };
  };
  return {
    get: (path: string) => send(path),
    async signIn(persona: string) {
      await send('/console/sign-in');
      const answer = await send('/console/sign-in/persona', { method: 'POST', body: new URLSearchParams({ _csrf: csrf, persona }) });
      expect(answer.status, answer.body).toBe(303);
    },
  };
}

/** The rows of a page's table (the filter's options name every reason, so words are looked for here only). */
const rowsOf = (page: string) => /<tbody>([\s\S]*?)<\/tbody>/.exec(page)?.[1] ?? '';

describeEachStore('the security events page through a running gateway, store on $name', (target) => {
  let city: TestCity;
  let deepRequestId: string;
  const me = sampleResident();

  beforeAll(async () => {
    city = await startTestCity({ ISTHMUS_MAX_DEPTH: '2', ISTHMUS_AUTH_THROTTLE_FAILURES: '10000' }, { store: target, extraPersonas: [OPERATOR] });
    for (let index = 0; index < BAD_TOKENS; index += 1) {
      const reply = await city.graphql('{ __typename }', {}, { authorization: `Bearer not.a.token-${index}` });
      expect(reply.status).toBe(401);
    }
    const deep = await city.graphql(TOO_DEEP, { id: me.idNumber });
    expect(deep.body.errors?.[0]?.extensions.code).toBe('LIMIT_EXCEEDED');
    deepRequestId = deep.headers.get('x-request-id')!;
    const store = createSecurityEventStore(city.gateway.store.db);
    await waitFor(async () => (await store.list({ kind: 'OPERATION_REFUSED' })).items.length > 0 && (await store.list({ kind: 'TOKEN_REFUSED', limit: 200 })).items.length >= BAD_TOKENS, { what: 'the provoked events stored' });
  }, 180_000);
  afterAll(async () => {
    await city?.close();
  });

  it('an auditor sees the refused tokens and the refused operation in words, with who, where, when and the request id (zh-CN)', async () => {
    const auditor = visitor(city.gateway.url, 'zh-CN');
    await auditor.signIn('auditor');
    const home = await auditor.get('/console');
    expect(home.body).toContain('href="/console/security-events"');
    const page = await auditor.get('/console/security-events?kind=OPERATION_REFUSED');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<h1>安全事件</h1>');
    const rows = rowsOf(page.body);
    expect(rows).toContain('查询被整体拒绝');
    expect(rows).toContain('超出查询限制（嵌套深度或别名数量）');
    expect(rows).toContain(deepRequestId);
    expect(rows).toContain('<code>127.0.0.1</code>');
    expect(rows).toContain('<code>POST /graphql</code>');
    const [event] = (await createSecurityEventStore(city.gateway.store.db).list({ kind: 'OPERATION_REFUSED' })).items;
    expect(rows).toContain(createTranslator('zh-CN').dateTime(event!.occurredAt));
    expect(rows).toContain('allowance-review');

    const tokens = rowsOf((await auditor.get('/console/security-events?kind=TOKEN_REFUSED')).body);
    expect(tokens).toContain('令牌被拒绝');
    expect(tokens).toContain('令牌格式错误');
    expect(tokens).toContain('未通过身份验证');
    expect(tokens).not.toContain('查询被整体拒绝');
    expect(tokens).not.toContain('not.a.token');
  });

  it('the admin API filters by client address too', async () => {
    const headers = { authorization: `Bearer ${await city.token({ bureau: 'audit-office', app: 'isthmus-console', user: 'sun.yue@audit', roles: ['auditor'], ttl: '1h' })}` };
    const read = async (query: string) => (await fetch(`${city.gateway.url}/admin/api/security-events${query}`, { headers })).json() as Promise<any>;
    expect((await read('?kind=OPERATION_REFUSED&clientAddress=127.0.0.1')).items.map((event: any) => event.requestId)).toContain(deepRequestId);
    expect((await read('?clientAddress=192.0.2.1')).items).toEqual([]);
    expect((await read('?clientAddress=not%20an%20address')).errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'clientAddress' });
  });

  it('filters by reason, address and time, pages with the cursor, and refuses what the form could not send', async () => {
    const auditor = visitor(city.gateway.url, 'zh-CN');
    await auditor.signIn('auditor');
    const first = await auditor.get('/console/security-events?kind=TOKEN_REFUSED&reason=TOKEN_MALFORMED');
    expect(rowsOf(first.body).match(/<tr>/g)).toHaveLength(50);
    const next = /href="(\/console\/security-events\?[^"]*cursor=[^"]+)"/.exec(first.body)?.[1]?.replaceAll('&amp;', '&');
    expect(next).toBeDefined();
    const second = await auditor.get(next!);
    expect(rowsOf(second.body).match(/<tr>/g)?.length).toBeGreaterThanOrEqual(BAD_TOKENS - 50);
    expect(rowsOf(second.body)).toContain('令牌格式错误');

    expect(rowsOf((await auditor.get('/console/security-events?reason=LIMIT_EXCEEDED')).body)).toContain(deepRequestId);
    expect(rowsOf((await auditor.get('/console/security-events?reason=TOKEN_EXPIRED')).body)).toBe('');
    expect((await auditor.get('/console/security-events?clientAddress=192.0.2.1')).body).toContain('没有符合条件的安全事件。');
    expect(rowsOf((await auditor.get('/console/security-events?kind=OPERATION_REFUSED&clientAddress=127.0.0.1')).body)).toContain(deepRequestId);
    // Wall times in Shanghai: from an hour ago includes the refusal, until an hour ago excludes it.
    const hourAgo = new Date(Date.now() - 3_600_000 + 8 * 3_600_000).toISOString().slice(0, 16);
    expect(rowsOf((await auditor.get(`/console/security-events?kind=OPERATION_REFUSED&from=${hourAgo}`)).body)).toContain(deepRequestId);
    expect(rowsOf((await auditor.get(`/console/security-events?kind=OPERATION_REFUSED&to=${hourAgo}`)).body)).toBe('');

    for (const bad of ['kind=NOPE', 'reason=lower-case', 'from=yesterday', 'clientAddress=<script>', 'cursor=not-a-cursor']) {
      const refused = await auditor.get(`/console/security-events?${bad}`);
      expect(refused.status, bad).toBe(400);
      expect(refused.body, bad).toContain('BAD_USER_INPUT');
      expect(refused.body, bad).not.toContain('<script>');
    }
  });

  it('shows the console’s own actions in words, and every view is in the console trail', async () => {
    const auditor = visitor(city.gateway.url, 'zh-CN');
    await auditor.signIn('auditor');
    // Recorded off the request's path, in batches: the sign-in's event reaches the table a moment later.
    let actions = '';
    await waitFor(async () => (actions = rowsOf((await auditor.get('/console/security-events?kind=ADMIN_ACTION')).body)).includes('以演示身份登录控制台'), { what: 'the sign-in shown' });
    expect(actions).not.toContain('未收录的原因代码');
    // Who signed in, not "unauthenticated": the session the sign-in made.
    const signIns = actions.split('<tr>').filter((row) => row.includes('以演示身份登录控制台'));
    expect(signIns.some((row) => row.includes('xu.ping@audit-office') && !row.includes('未通过身份验证'))).toBe(true);
    const trail = await sql<{ action: string; user_id: string; detail: { filterHash?: string } }>`
      select action, user_id, detail from console_audit where action = 'SECURITY_EVENTS_VIEW' and user_id = 'xu.ping@audit-office'`.execute(city.gateway.store.db);
    expect(trail.rows.length).toBeGreaterThanOrEqual(1);
    expect(trail.rows[0]!.detail.filterHash).toMatch(/^[0-9a-f]{64}$/);
    const trailPage = await auditor.get('/console/audit/trail?action=SECURITY_EVENTS_VIEW');
    expect(rowsOf(trailPage.body)).toContain('查看安全事件');
  });

  it('exports the filtered view as CSV, recorded in the trail', async () => {
    const auditor = visitor(city.gateway.url, 'en');
    await auditor.signIn('auditor');
    const csv = await auditor.get('/console/security-events/export.csv?kind=TOKEN_REFUSED');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    const lines = csv.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe('occurred_at,id,kind,reason,outcome,route,status,request_id,client_address,bureau,app,user,issuer,subject,key_id,detail');
    expect(lines.length).toBeGreaterThanOrEqual(BAD_TOKENS + 1);
    expect(lines.slice(1).every((line) => line.includes(',TOKEN_REFUSED,'))).toBe(true);
    expect(csv.body).not.toContain('not.a.token');
    const exports = await sql<{ count: string | number }>`select count(*) as count from console_audit where action = 'SECURITY_EVENTS_EXPORT' and target = 'csv'`.execute(city.gateway.store.db);
    expect(Number(exports.rows[0]!.count)).toBeGreaterThanOrEqual(1);
  });

  it('shows and exports a stored event’s text inert: no control or bidirectional character reaches the reader', async () => {
    const route = `POST /admin/api/agreements/:id/approve`;
    await createSecurityEventStore(city.gateway.store.db).insert([
      {
        at: new Date(),
        event: { kind: 'ADMIN_ACTION', reason: 'AGREEMENTS_APPROVE', outcome: 'REFUSED', route, status: 403, bureau: 'public-security', app: 'ops\u202eexe', user: 'wang\u001b[8m\nfields: forged', clientAddress: '198.51.100.9', detail: { target: 'agr-1\u2066\r\n=HYPERLINK("x")' } },
      },
    ]);
    const auditor = visitor(city.gateway.url, 'zh-CN');
    await auditor.signIn('auditor');
    const page = await auditor.get('/console/security-events?clientAddress=198.51.100.9');
    const rows = rowsOf(page.body);
    expect(rows).toContain('通过接口批准共享协议');
    expect(rows).toContain('ops\\u202eexe');
    expect(rows).toContain('\\u001b[8m\\u000afields: forged');
    expect(page.body).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u);
    const csv = await auditor.get('/console/security-events/export.csv?clientAddress=198.51.100.9');
    const lines = csv.body.trimEnd().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('agr-1\\u2066\\r\\n=HYPERLINK');
    expect(csv.body).not.toMatch(/[\u001b\u202e\u2066]/u);
  });

  it('an operator sees the page too (en), linked from home and the navigation', async () => {
    const operator = visitor(city.gateway.url, 'en');
    await operator.signIn('operator');
    const home = await operator.get('/console');
    expect(home.body).toContain('href="/console/security-events"');
    const page = await operator.get('/console/security-events?kind=TOKEN_REFUSED');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<h1>Security events</h1>');
    const rows = rowsOf(page.body);
    expect(rows).toContain('Token refused');
    expect(rows).toContain('Malformed token');
    expect(rows).toContain('Unauthenticated');
  });

  it('a citizen and a data officer get the 403 page in their language, and the refusal is itself an event', async () => {
    for (const [persona, language, title] of [
      ['citizen', 'zh-CN', '<h1>无权访问</h1>'],
      ['hrss-officer', 'en', '<h1>Not for your role</h1>'],
    ] as const) {
      const someone = visitor(city.gateway.url, language);
      await someone.signIn(persona);
      const refused = await someone.get('/console/security-events');
      expect(refused.status, persona).toBe(403);
      expect(refused.body, persona).toContain('FORBIDDEN');
      expect(refused.body, persona).toContain(title.replace('无权访问', createTranslator('zh-CN').t('error.FORBIDDEN.title')));
      expect(refused.body, persona).not.toContain('令牌格式错误');
      expect(refused.body, persona).not.toContain('Malformed token');
      expect((await someone.get('/console/security-events/export.csv')).status).toBe(403);
      expect((await someone.get('/console')).body).not.toContain('href="/console/security-events"');
    }
    const store = createSecurityEventStore(city.gateway.store.db);
    await waitFor(async () => (await store.list({ kind: 'ACCESS_REFUSED' })).items.some((event) => event.route === 'GET /console/security-events' && event.user === 'li.na@hrss'), { what: 'the refusal recorded' });
  });
});

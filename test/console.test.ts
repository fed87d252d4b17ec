import { Hono } from 'hono';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAgreementStore, type AgreementStore } from '../gateway/agreements/agreement-store.ts';
import { openDevIssuer, type DevIssuer } from '../gateway/auth/dev-issuer.ts';
import { createTokenVerifier } from '../gateway/auth/verify-token.ts';
import { createConsole, DEFAULT_CONSOLE_MAX_FORM_BYTES, type ConsoleDeps } from '../gateway/console/console-app.ts';
import type { ConsolePersona } from '../gateway/console/console-persona.ts';
import { DEFAULT_SESSION_IDLE_MS, DEFAULT_SESSION_TTL_MS } from '../gateway/console/console-sessions.ts';
import type { Store } from '../gateway/store/store.ts';
import type { Role } from '../policies/principal.ts';
import { demoCatalogue, storeActive, storePending } from './support/agreement-fixtures.ts';
import { describeEachStore } from './support/describe-each-store.ts';

/**
 * The console in-process (`app.request()`), on each store: its headers, its
 * languages, sign-in and sessions, CSRF, and the data officer's decisions —
 * each refusal a page in the reader's language with a code, and nothing
 * changed. Tokens are real ES256 tokens of a dev issuer, verified by the
 * gateway's own verifier.
 */

/** Friday 6 March 2026, 10:00 in Shanghai. */
const FRIDAY = new Date('2026-03-06T02:00:00Z');
const LOOPBACK = 'http://127.0.0.1:4000';
const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** The cast of the fixtures: HRSS (the consumer) asks public security (the provider) for residents' names and addresses. */
const PERSONAS: readonly ConsolePersona[] = [
  persona('provider-officer', 'public-security', 'u-li', 'data_officer'),
  persona('consumer-officer', 'human-resources-social-security', 'u-zhao', 'data_officer'),
  persona('requester', 'human-resources-social-security', 'u-wang', 'developer'),
  // The requester, also holding a data officer's post at the provider.
  persona('requester-as-provider', 'public-security', 'u-wang', 'data_officer'),
  persona('bystander', 'market-supervision', 'u-ma', 'data_officer'),
  persona('auditor', 'audit-office', 'u-xu', 'auditor'),
];

function persona(id: string, bureau: string, user: string, role: Role): ConsolePersona {
  return { id, name: { zh: user, en: user }, claims: { bureau, app: 'isthmus-console', user, roles: [role] } };
}

interface Page {
  readonly status: number;
  readonly headers: Headers;
  readonly html: string;
  /** Where a redirect points. */
  readonly location: string | null;
}

/** A browser without a browser: keeps cookies, and reads the CSRF token of the page it saw last. */
class Visitor {
  readonly cookies = new Map<string, string>();
  lastCsrf: string | undefined;
  private readonly app: Hono;
  private readonly origin: string;
  private readonly headers: Record<string, string>;
  constructor(app: Hono, origin = LOOPBACK, headers: Record<string, string> = {}) {
    this.app = app;
    this.origin = origin;
    this.headers = headers;
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Page> {
    return this.send(path, { method: 'GET', headers });
  }

  /** Posts a form; `_csrf` is the last page's token unless the fields say otherwise (`null` leaves it out). */
  async post(path: string, fields: Record<string, string | null> = {}, headers: Record<string, string> = {}): Promise<Page> {
    const form = new URLSearchParams();
    const withToken = { _csrf: this.lastCsrf ?? null, ...fields };
    for (const [name, value] of Object.entries(withToken)) if (value !== null) form.set(name, value);
    return this.send(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: form.toString() });
  }

  async send(path: string, init: RequestInit & { headers: Record<string, string> }): Promise<Page> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await this.app.request(`${this.origin}${path}`, { ...init, headers: { ...this.headers, ...(cookie ? { cookie } : {}), ...init.headers } });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, value] = pair!.split('=') as [string, string];
      if (/;\s*max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const html = await response.text();
    this.lastCsrf = /name="_csrf" value="([^"]*)"/.exec(html)?.[1] ?? this.lastCsrf;
    return { status: response.status, headers: response.headers, html, location: response.headers.get('location') };
  }

  /** Signs in through the persona picker and follows the redirect. */
  async signIn(personaId: string): Promise<Page> {
    await this.get('/console/sign-in');
    const signedIn = await this.post('/console/sign-in/persona', { persona: personaId });
    expect(signedIn.status, signedIn.html).toBe(303);
    return this.get(signedIn.location!);
  }
}

/** The text a person reads: tags gone, entities of hono's escaping undone, white space folded. */
function text(html: string): string {
  return html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

describeEachStore('the console on $name', (target) => {
  let store: Store;
  let agreements: AgreementStore;
  let dev: DevIssuer;
  let app: Hono;
  let clock: Date;
  let changes: number;
  const errors: unknown[] = [];
  let counter = 0;
  /** A fresh id per test, so tests share the store without meeting. */
  const nextId = () => `agr-console-${target.name}-${++counter}`;

  function mount(overrides: Partial<ConsoleDeps> = {}): Hono {
    const verifier = createTokenVerifier({ issuers: [dev.issuerConfig] });
    return new Hono().route(
      '/console',
      createConsole({
        agreements,
        catalogue: demoCatalogue(),
        verifier,
        personas: { issuer: dev, list: PERSONAS },
        bureauNames: new Map([['audit-office', { zh: '市审计局', en: 'Municipal Audit Office' }]]),
        now: () => clock,
        onChange: async () => {
          changes += 1;
        },
        log: { error: (...args: unknown[]) => errors.push(args), info: () => {} },
        ...overrides,
      }),
    );
  }

  beforeAll(async () => {
    store = await target.open();
    agreements = createAgreementStore(store.db);
    dev = await openDevIssuer({ keysDir: undefined });
    app = mount();
  });
  afterAll(async () => {
    await store?.close();
  });
  beforeEach(() => {
    clock = FRIDAY;
    changes = 0;
  });

  async function stored(id: string) {
    return (await agreements.get(id))!.agreement;
  }

  /** A new request (or, with `active`, an agreement in force), and a visitor signed in as `personaId` looking at it. */
  async function reviewing(personaId: string, options: { active?: boolean; language?: string } = {}) {
    const id = nextId();
    await (options.active ? storeActive : storePending)(agreements, id, FRIDAY);
    const visitor = new Visitor(app, LOOPBACK, options.language ? { 'accept-language': options.language } : {});
    await visitor.signIn(personaId);
    const page = await visitor.get(`/console/agreements/${id}`);
    return { id, visitor, page };
  }

  describe('headers and assets', () => {
    it('every page and refusal carries a CSP without script, frame-ancestors none, nosniff and no-referrer, and is never cached', async () => {
      const visitor = new Visitor(app);
      const pages = [await visitor.get('/console/sign-in'), await visitor.post('/console/sign-out', { _csrf: 'forged' })];
      await visitor.signIn('provider-officer');
      pages.push(await visitor.get('/console/inbox'), await visitor.get('/console/no-such-page'), await visitor.get('/console/agreements/agr-none'));
      expect(pages.map((page) => page.status)).toEqual([200, 403, 200, 404, 404]);
      for (const page of pages) {
        expect(page.headers.get('content-security-policy')).toBe(CSP);
        expect(page.headers.get('x-content-type-options')).toBe('nosniff');
        expect(page.headers.get('referrer-policy')).toBe('no-referrer');
        expect(page.headers.get('x-frame-options')).toBe('DENY');
        expect(page.headers.get('cache-control')).toBe('no-store');
        expect(page.headers.get('content-type')).toMatch(/^text\/html; charset=utf-8$/i);
        expect(page.html).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
        expect(page.html).toMatch(/^<!doctype html>\n<html lang="zh-CN">/);
      }
    });

    it('serves its one stylesheet itself, under a name that changes with its content', async () => {
      const visitor = new Visitor(app);
      const page = await visitor.get('/console/sign-in');
      const href = /<link rel="stylesheet" href="([^"]+)">/.exec(page.html)?.[1];
      expect(href).toMatch(/^\/console\/assets\/console-[0-9a-f]{12}\.css$/);
      expect(page.html.match(/<link /g)).toHaveLength(1);
      const css = await visitor.get(href!);
      expect(css.status).toBe(200);
      expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
      expect(css.headers.get('cache-control')).toContain('immutable');
      expect(css.headers.get('x-content-type-options')).toBe('nosniff');
      expect(css.html).toContain('Noto Sans CJK SC');
      expect(css.html).not.toMatch(/@import|url\(\s*['"]?https?:/);
    });
  });

  describe('languages', () => {
    it('speaks 简体中文 by default and English to a browser that asks for it', async () => {
      const zh = await new Visitor(app).get('/console/sign-in');
      expect(zh.html).toContain('<html lang="zh-CN">');
      expect(zh.html).toContain('<title>登录 · Isthmus 数据共享控制台</title>');
      const en = await new Visitor(app, LOOPBACK, { 'accept-language': 'en-GB,en;q=0.9' }).get('/console/sign-in');
      expect(en.html).toContain('<html lang="en">');
      expect(en.html).toContain('<title>Sign in · Isthmus data sharing console</title>');
    });

    it('the language switch wins over Accept-Language, returns to the page it was on, and never to another site', async () => {
      const visitor = new Visitor(app, LOOPBACK, { 'accept-language': 'zh-CN' });
      await visitor.signIn('provider-officer');
      await visitor.get('/console/agreements?tab=pending');
      const switched = await visitor.post('/console/language', { lang: 'en', next: '/console/agreements?tab=pending' });
      expect(switched.status).toBe(303);
      expect(switched.location).toBe('/console/agreements?tab=pending');
      expect(switched.headers.getSetCookie().find((line) => line.startsWith('isthmus-console-lang='))).toMatch(/^isthmus-console-lang=en; Max-Age=\d+; Path=\/console; HttpOnly; SameSite=Lax$/);
      const after = await visitor.get(switched.location!);
      expect(after.html).toContain('<html lang="en">');
      expect(text(after.html)).toContain('Sharing agreements');

      for (const next of ['https://evil.example/', '//evil.example/console', '/console//evil.example', '/graphql', '/console\\@evil.example']) {
        const refused = await visitor.post('/console/language', { lang: 'zh-CN', next });
        expect(refused.location, next).toBe('/console');
      }
      const unknown = await visitor.post('/console/language', { lang: 'fr', next: '/console' });
      expect(unknown.status).toBe(400);
      // The last switch chose 简体中文, and the refusal says so in it.
      expect(text(unknown.html)).toContain('错误代码：BAD_USER_INPUT');
    });

    it('shows refusals in the reader’s language, with their code', async () => {
      for (const [language, words] of [
        ['zh-CN', '此表单缺少有效的安全令牌'],
        ['en', 'The form did not carry a valid security token'],
      ] as const) {
        const visitor = new Visitor(app, LOOPBACK, { 'accept-language': language });
        await visitor.get('/console/sign-in');
        const refused = await visitor.post('/console/sign-in/persona', { persona: 'provider-officer', _csrf: 'forged' });
        expect(refused.status).toBe(403);
        expect(text(refused.html)).toContain(words);
        expect(refused.html).toContain('CSRF_INVALID');
      }
    });
  });

  describe('sign-in and sessions', () => {
    it('offers the personas, and signs in with an HttpOnly, SameSite=Strict session cookie (Secure except on loopback)', async () => {
      const local = new Visitor(app);
      const picker = await local.get('/console/sign-in');
      for (const { id } of PERSONAS) expect(picker.html).toContain(`name="persona" value="${id}"`);
      expect(text(picker.html)).toContain('市公安局');
      await local.get('/console/sign-in');
      const signedIn = await local.post('/console/sign-in/persona', { persona: 'provider-officer' });
      expect(signedIn.location).toBe('/console/inbox');
      const cookie = signedIn.headers.getSetCookie().find((line) => line.startsWith('isthmus-console-session='))!;
      expect(cookie).toMatch(new RegExp(`^isthmus-console-session=[A-Za-z0-9_-]{43}; Max-Age=${DEFAULT_SESSION_TTL_MS / 1_000}; Path=/console; HttpOnly; SameSite=Strict$`));

      const remote = new Visitor(app, 'https://console.city.example');
      const visitorCookie = (await remote.get('/console/sign-in')).headers.getSetCookie()[0]!;
      expect(visitorCookie).toMatch(/; Secure/);
      const secure = await remote.post('/console/sign-in/persona', { persona: 'provider-officer' });
      expect(secure.headers.getSetCookie().find((line) => line.startsWith('isthmus-console-session='))).toMatch(/; HttpOnly; Secure; SameSite=Strict$/);
    });

    it('holds the principal the gateway’s verifier makes of the persona’s token', async () => {
      const visitor = new Visitor(app);
      const home = await visitor.signIn('requester');
      expect(text(home.html)).toContain('您以开发人员身份代表市人力资源和社会保障局登录。');
      expect(text(home.html)).toContain('u-wang（市人力资源和社会保障局）');
    });

    it('without the dev issuer there is no persona picker', async () => {
      const plain = mount({ personas: undefined });
      const visitor = new Visitor(plain);
      const page = await visitor.get('/console/sign-in');
      expect(text(page.html)).toContain('本服务尚未配置登录方式');
      expect(page.html).not.toContain('name="persona"');
      const refused = await visitor.post('/console/sign-in/persona', { persona: 'provider-officer' });
      expect(refused.status).toBe(404);
      expect(visitor.cookies.has('isthmus-console-session')).toBe(false);
    });

    it('refuses an unknown persona, and signs nobody in', async () => {
      const visitor = new Visitor(app);
      await visitor.get('/console/sign-in');
      const refused = await visitor.post('/console/sign-in/persona', { persona: 'root' });
      expect(refused.status).toBe(400);
      expect(visitor.cookies.has('isthmus-console-session')).toBe(false);
    });

    it('sends a signed-out visitor to sign in, and signing out ends the session at once', async () => {
      const visitor = new Visitor(app);
      const first = await visitor.get('/console');
      expect(first.status).toBe(303);
      expect(first.location).toBe('/console/sign-in?notice=required');
      await visitor.signIn('provider-officer');
      const session = visitor.cookies.get('isthmus-console-session')!;
      const out = await visitor.post('/console/sign-out');
      expect(out.location).toBe('/console/sign-in?notice=signedOut');
      expect(text((await visitor.get(out.location!)).html)).toContain('您已退出登录。');
      // The old cookie, replayed, opens nothing.
      visitor.cookies.set('isthmus-console-session', session);
      expect((await visitor.get('/console/inbox')).location).toBe('/console/sign-in?notice=expired&next=%2Fconsole%2Finbox');
    });

    it('signing in from a link returns to the page it named, and never to another site', async () => {
      const id = nextId();
      await storePending(agreements, id, FRIDAY);
      const visitor = new Visitor(app);
      const sent = await visitor.get(`/console/agreements/${id}`);
      expect(sent.location).toBe(`/console/sign-in?notice=required&next=${encodeURIComponent(`/console/agreements/${id}`)}`);
      const picker = await visitor.get(sent.location!);
      expect(text(picker.html)).toContain('请先登录。');
      expect(picker.html).toContain(`name="next" value="/console/agreements/${id}"`);
      const signedIn = await visitor.post('/console/sign-in/persona', { persona: 'provider-officer', next: `/console/agreements/${id}` });
      expect(signedIn.location).toBe(`/console/agreements/${id}`);
      for (const next of ['https://evil.example/console', '//evil.example/console', '/console/sign-in']) {
        const other = new Visitor(app);
        await other.get('/console/sign-in');
        expect((await other.post('/console/sign-in/persona', { persona: 'provider-officer', next })).location, next).toBe('/console/inbox');
      }
    });

    it('an expired session sends pages to sign in and changes nothing on a POST', async () => {
      const { id, visitor } = await reviewing('provider-officer');
      clock = new Date(FRIDAY.getTime() + DEFAULT_SESSION_IDLE_MS + 1);

      const refused = await visitor.post(`/console/agreements/${id}/approve`, { version: '1' });
      expect(refused.status).toBe(401);
      expect(text(refused.html)).toContain('您的会话已过期或已结束，未作任何更改。');
      expect(refused.html).toContain('SESSION_EXPIRED');
      expect(await stored(id)).toMatchObject({ status: 'PENDING', version: 1 });
      expect(changes).toBe(0);

      const page = await visitor.get(`/console/agreements/${id}`);
      expect(page.location).toBe(`/console/sign-in?notice=expired&next=${encodeURIComponent(`/console/agreements/${id}`)}`);
      expect(text((await visitor.get(page.location!)).html)).toContain('会话已过期，请重新登录。');
    });

    it('a busy session still ends at its lifetime', async () => {
      const visitor = new Visitor(app);
      await visitor.signIn('provider-officer');
      for (let at = FRIDAY.getTime(); at < FRIDAY.getTime() + DEFAULT_SESSION_TTL_MS - DEFAULT_SESSION_IDLE_MS; at += DEFAULT_SESSION_IDLE_MS / 2) {
        clock = new Date(at);
        expect((await visitor.get('/console/inbox')).status).toBe(200);
      }
      clock = new Date(FRIDAY.getTime() + DEFAULT_SESSION_TTL_MS);
      expect((await visitor.get('/console/inbox')).location).toBe('/console/sign-in?notice=expired&next=%2Fconsole%2Finbox');
    });
  });

  describe('CSRF', () => {
    it('a POST without the session’s token — missing, forged, or a signed-out visitor’s — is refused and changes nothing', async () => {
      const id = nextId();
      await storePending(agreements, id, FRIDAY);
      const visitor = new Visitor(app);
      await visitor.get('/console/sign-in');
      const visitorToken = visitor.lastCsrf!;
      await visitor.signIn('provider-officer');
      const sessionToken = visitor.lastCsrf!;
      expect(sessionToken).not.toBe(visitorToken);

      for (const token of [null, '', 'forged', visitorToken, `${sessionToken}x`]) {
        const refused = await visitor.post(`/console/agreements/${id}/approve`, { version: '1', _csrf: token });
        expect(refused.status, String(token)).toBe(403);
        expect(text(refused.html)).toContain('表单已失效');
        expect(refused.html).toContain('CSRF_INVALID');
      }
      expect(await stored(id)).toMatchObject({ status: 'PENDING', version: 1 });
      expect(changes).toBe(0);
      // Another session's token is no better.
      const other = new Visitor(app);
      await other.signIn('provider-officer');
      expect((await visitor.post(`/console/agreements/${id}/approve`, { version: '1', _csrf: other.lastCsrf! })).status).toBe(403);
      // Signing out needs the token too: a forged sign-out leaves the session working.
      expect((await visitor.post('/console/sign-out', { _csrf: 'forged' })).status).toBe(403);
      expect((await visitor.get('/console/inbox')).status).toBe(200);
    });

    it('signing in needs the visitor’s own token, so no other site can sign a browser in', async () => {
      const visitor = new Visitor(app);
      await visitor.get('/console/sign-in');
      expect((await visitor.post('/console/sign-in/persona', { persona: 'provider-officer', _csrf: null })).status).toBe(403);
      const stranger = new Visitor(app);
      await stranger.get('/console/sign-in');
      expect((await visitor.post('/console/sign-in/persona', { persona: 'provider-officer', _csrf: stranger.lastCsrf! })).status).toBe(403);
      expect(visitor.cookies.has('isthmus-console-session')).toBe(false);
    });
  });

  describe('the data officer', () => {
    it('sees the requests addressed to the bureau with what a decision needs, late ones first and marked as late', async () => {
      const fresh = nextId();
      const late = nextId();
      await storePending(agreements, fresh, FRIDAY);
      // Filed four weeks earlier: its ten working days ended on 20 February.
      await storePending(agreements, late, new Date(FRIDAY.getTime() - 28 * 86_400_000), { consumerApp: 'pension-late' });
      const visitor = new Visitor(app);
      const inbox = await visitor.signIn('provider-officer');
      expect(inbox.status).toBe(200);
      const body = text(inbox.html);
      expect(inbox.html.indexOf(`request-${late}`)).toBeLessThan(inbox.html.indexOf(`request-${fresh}`));
      expect(inbox.html).toMatch(new RegExp(`<li class="request late">\\s*<article aria-labelledby="request-${late}">`));
      expect(inbox.html).toMatch(new RegExp(`<li class="request">\\s*<article aria-labelledby="request-${fresh}">`));
      expect(body).toContain('已逾期 10 个工作日');
      expect(body).toContain('还剩 10 个工作日');
      expect(body).toContain('市人力资源和社会保障局 · pension-service 的申请');
      expect(body).toContain('pension-eligibility-check');
      expect(body).toContain('《社会保险法》第七十三条');
      expect(body).toContain('任意记录');
      expect(body).toContain('2026年3月1日 – 2027年3月1日');
      // Person.address: conditional, high sensitivity, the address mask asked for.
      expect(inbox.html).toMatch(/<code>Person\.address<\/code>[\s\S]*?有条件共享[\s\S]*?>高<[\s\S]*?地址脱敏<\/td>\s*<td>地址脱敏<\/td>/);

      const elsewhere = await new Visitor(app).signIn('bystander');
      expect(elsewhere.html).not.toContain(fresh);
    });

    it('approves through the lifecycle: stored with its event, the registry refreshed, the history shown', async () => {
      const { id, visitor, page } = await reviewing('provider-officer');
      expect(page.html).toContain(`action="/console/agreements/${id}/approve"`);
      clock = new Date(FRIDAY.getTime() + 60_000);
      const approved = await visitor.post(`/console/agreements/${id}/approve`, { version: '1' });
      expect(approved.status, approved.html).toBe(303);
      expect(approved.location).toBe(`/console/agreements/${id}?done=approve`);
      expect(await stored(id)).toMatchObject({ status: 'ACTIVE', version: 2, approvedBy: 'u-li' });
      expect(changes).toBe(1);

      const after = text((await visitor.get(approved.location!)).html);
      expect(after).toContain('已批准。协议即时生效');
      expect(after).toMatch(/1 提交申请 u-wang（市人力资源和社会保障局） 2026年3月6日 10:00/);
      expect(after).toMatch(/2 批准 u-li（市公安局） 2026年3月6日 10:01/);
      // In force now, so the only decision left is a revocation.
      expect(after).toContain('撤销理由（申请方可见）');
      const listed = await visitor.get('/console/agreements?side=provided&tab=active');
      expect(listed.html).toContain(`>${id}</a>`);
    });

    it('a reason of white space is refused in the rule’s words and changes nothing; a real one is stored and shown to the requester', async () => {
      const { id, visitor } = await reviewing('provider-officer');
      const blank = await visitor.post(`/console/agreements/${id}/reject`, { version: '1', reason: '  \n\t  ' });
      expect(blank.status).toBe(400);
      expect(text(blank.html)).toContain('请写明理由：必填，至少 8 个字符的实际内容（以文字和数字为主，不换行），最多 2,000 个字符。');
      expect(text(blank.html)).toContain('规则原文： reason is required: the reasons for the rejection');
      expect(blank.html).toMatch(/<textarea id="reason-reject"[^>]*aria-invalid="true"/);
      expect(await stored(id)).toMatchObject({ status: 'PENDING', version: 1 });
      expect(changes).toBe(0);

      const reason = '申请的地址字段超出养老金资格核查所需范围，请缩小字段后重新提交';
      const rejected = await visitor.post(`/console/agreements/${id}/reject`, { version: '1', reason });
      expect(rejected.status).toBe(303);
      expect(await stored(id)).toMatchObject({ status: 'REJECTED', rejectionReason: reason });
      expect(changes).toBe(1);
      const requester = new Visitor(app);
      await requester.signIn('requester');
      expect(text((await requester.get(`/console/agreements/${id}`)).html)).toContain(`驳回理由 ${reason}`);
    });

    it('revokes with written reasons; the agreement is REVOKED and says why', async () => {
      const { id, visitor } = await reviewing('provider-officer', { active: true, language: 'en' });
      const reason = 'The consumer failed its data security assessment; sharing is suspended.';
      const revoked = await visitor.post(`/console/agreements/${id}/revoke`, { version: '2', reason });
      expect(revoked.status).toBe(303);
      expect(await stored(id)).toMatchObject({ status: 'REVOKED', revocationReason: reason });
      expect(changes).toBe(1);
      const page = text((await visitor.get(revoked.location!)).html);
      expect(page).toContain('Revoked. The agreement ends now');
      expect(page).toContain(`Reasons for the revocation ${reason}`);
      expect(page).not.toContain('Reasons for revoking');
    });

    it('the requester’s own bureau cannot decide: the page says so in the rule’s words, and a forced POST is refused', async () => {
      const { id, visitor: officer, page } = await reviewing('consumer-officer');
      expect(page.status).toBe(200);
      expect(page.html).not.toContain(`action="/console/agreements/${id}/approve"`);
      expect(text(page.html)).toContain('只有提供方部门（市公安局）的数据专员可以批准、驳回或撤销此协议。');
      expect(text(page.html)).toContain("only a data officer of the providing bureau 'public-security' may approve this agreement");
      // Approve and reject break the same rule: it is said once.
      expect(page.html.match(/role="note"/g)).toHaveLength(1);
      const forced = await officer.post(`/console/agreements/${id}/approve`, { version: '1' });
      expect(forced.status).toBe(403);
      expect(text(forced.html)).toContain('FORBIDDEN · PROVIDER_DATA_OFFICER');
      // The requester with a post at the provider meets separation of duties instead.
      const requester = new Visitor(app);
      await requester.signIn('requester-as-provider');
      await requester.get(`/console/agreements/${id}`);
      const own = await requester.post(`/console/agreements/${id}/approve`, { version: '1' });
      expect(own.status).toBe(403);
      expect(text(own.html)).toContain('此协议由您本人申请，须由另一位数据专员作出决定。');
      expect(text(own.html)).toContain('FORBIDDEN · SEPARATION_OF_DUTIES');
      expect(await stored(id)).toMatchObject({ status: 'PENDING', version: 1 });
      expect(changes).toBe(0);
    });

    it('another bureau’s agreement id in a URL looks like no agreement at all, and changes nothing', async () => {
      const { id, visitor, page: seen } = await reviewing('bystander');
      const missing = await visitor.get('/console/agreements/agr-no-such-thing');
      expect(seen.status).toBe(404);
      expect(text(seen.html)).toContain('没有找到此页面，或没有您可以查看的此协议。');
      expect(seen.html).not.toContain('pension-eligibility-check');
      expect(seen.html.replace(id, '')).toBe(missing.html.replace('agr-no-such-thing', ''));
      const forced = await visitor.post(`/console/agreements/${id}/approve`, { version: '1' });
      expect(forced.status).toBe(404);
      expect(await stored(id)).toMatchObject({ status: 'PENDING', version: 1 });
    });

    it('an oversized form is refused before it is read, in the reader’s language, and changes nothing', async () => {
      const { id, visitor } = await reviewing('provider-officer', { language: 'en' });
      const huge = await visitor.post(`/console/agreements/${id}/reject`, { version: '1', reason: '理'.repeat(DEFAULT_CONSOLE_MAX_FORM_BYTES / 4) });
      expect(huge.status).toBe(413);
      expect(text(huge.html)).toContain(`The form is larger than ${DEFAULT_CONSOLE_MAX_FORM_BYTES.toLocaleString('en')} bytes; nothing was changed.`);
      expect(huge.html).toContain('LIMIT_EXCEEDED');
      expect(await stored(id)).toMatchObject({ status: 'PENDING', version: 1 });
    });

    it('refuses a decision on a version it did not show, a field sent twice, a body that is no form, and an unknown step', async () => {
      const { id, visitor } = await reviewing('provider-officer');
      const stale = await visitor.post(`/console/agreements/${id}/approve`, { version: '7' });
      expect(stale.status).toBe(409);
      expect(text(stale.html)).toContain('协议的状态已变化，此操作不再适用。');
      const twice = await visitor.send(`/console/agreements/${id}/approve`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `_csrf=${visitor.lastCsrf}&version=1&version=1`,
      });
      expect(twice.status).toBe(400);
      const json = await visitor.send(`/console/agreements/${id}/approve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ _csrf: visitor.lastCsrf, version: 1 }) });
      expect(json.status).toBe(400);
      expect((await visitor.post(`/console/agreements/${id}/delete`, { version: '1' })).status).toBe(404);
      expect(await stored(id)).toMatchObject({ status: 'PENDING', version: 1 });
      expect(changes).toBe(0);
    });

    it('pages are for the roles they serve: an auditor has no inbox (their own pages: test/console-auditor.test.ts)', async () => {
      const visitor = new Visitor(app);
      const home = await visitor.signIn('auditor');
      expect(home.html).not.toContain('href="/console/inbox"');
      const inbox = await visitor.get('/console/inbox');
      expect(inbox.status).toBe(403);
      expect(text(inbox.html)).toContain('您的角色不能使用此页面');
      expect((await visitor.get('/console/agreements')).status).toBe(403);
    });
  });

  it('logged nothing unexpected', () => {
    expect(errors).toEqual([]);
  });
});

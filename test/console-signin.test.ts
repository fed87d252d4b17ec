import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import Provider, { type ProviderContext } from 'oidc-provider';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAgreementStore } from '../gateway/agreements/agreement-store.ts';
import { createTokenVerifier } from '../gateway/auth/verify-token.ts';
import { loadConfig, type GatewayConfig } from '../gateway/config/config.ts';
import { createConsole } from '../gateway/console/console-app.ts';
import type { Store } from '../gateway/store/store.ts';
import { demoCatalogue } from './support/agreement-fixtures.ts';
import { storeTargets } from './support/test-stores.ts';

/**
 * Signing in to the console through a real OpenID provider (oidc-provider,
 * on 127.0.0.1, started here) with the authorization code flow and PKCE:
 * the whole flow followed redirect by redirect in-process, the session's
 * principal read by the gateway's own verifier with the issuer's claim
 * mapping; a wrong state, a replayed code and an ID token for another
 * client each refused with a page in the reader's language, nobody signed
 * in; sign-out ends the session and the provider's (RP-initiated logout).
 */

const CONSOLE_ORIGIN = 'http://127.0.0.1:4000';
const CALLBACK = `${CONSOLE_ORIGIN}/console/sign-in/oidc/callback`;
const CLIENT_ID = 'isthmus-console';
const CLIENT_SECRET = 'console-secret-for-tests-only-0123456789';
const OTHER_CLIENT = 'other-app';
const OTHER_CALLBACK = 'http://127.0.0.1:4001/callback';

/** Generated test accounts: the provider's claims name a bureau and a role, as a city's identity provider would. */
const ACCOUNTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  'officer-7f3a': { bureau: 'public-security', roles: ['data_officer'], preferred_username: 'officer.7f3a@public-security' },
  'developer-19c2': { bureau: 'human-resources-social-security', roles: ['developer'], preferred_username: 'dev.19c2@hrss' },
};

interface Page {
  readonly status: number;
  readonly html: string;
  readonly location: string | null;
}

/** A browser without a browser for two sites: the console in-process and the provider over HTTP, one cookie jar per host. */
class Visitor {
  readonly jars = new Map<string, Map<string, string>>();
  lastCsrf: string | undefined;
  private readonly app: Hono;
  constructor(app: Hono) {
    this.app = app;
  }

  async request(url: string, init: { method?: string; body?: URLSearchParams; headers?: Record<string, string> } = {}): Promise<Page> {
    const target = new URL(url);
    const jar = this.jars.get(target.host) ?? new Map<string, string>();
    this.jars.set(target.host, jar);
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const headers: Record<string, string> = { 'accept-language': 'zh-CN', ...(cookie ? { cookie } : {}), ...(init.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...init.headers };
    const requestInit = { method: init.method ?? 'GET', headers, redirect: 'manual' as const, ...(init.body ? { body: init.body.toString() } : {}) };
    const response = target.origin === CONSOLE_ORIGIN ? await this.app.request(url, requestInit) : await fetch(url, requestInit);
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      const name = pair!.slice(0, at);
      if (/;\s*max-age=0|expires=thu, 01 jan 1970/i.test(line)) jar.delete(name);
      else jar.set(name, pair!.slice(at + 1));
    }
    const html = await response.text();
    this.lastCsrf = /name="_csrf" value="([^"]*)"/.exec(html)?.[1] ?? this.lastCsrf;
    const location = response.headers.get('location');
    return { status: response.status, html, location: location === null ? null : new URL(location, url).href };
  }

  /**
   * From the console's sign-in link to the provider's redirect back: follows
   * redirects, and at the provider's login form signs in as `account`.
   * Returns the callback URL the provider sent the browser to (not yet visited).
   */
  async throughProvider(start: string, account: string, stopAt = CALLBACK): Promise<string> {
    let url = start;
    for (let step = 0; step < 20; step += 1) {
      if (url.startsWith(stopAt)) return url;
      const page = await this.request(url);
      if (page.location) {
        url = page.location;
        continue;
      }
      const form = /<form[^>]*action="([^"]+)"[^>]*method="post"/.exec(page.html);
      expect(form, page.html).not.toBeNull();
      const submitted = await this.request(new URL(form![1]!, url).href, { method: 'POST', body: new URLSearchParams({ prompt: 'login', login: account, password: 'any' }) });
      expect(submitted.location, submitted.html).not.toBeNull();
      url = submitted.location!;
    }
    throw new Error(`no redirect to ${stopAt} after 20 steps`);
  }

  /** The console's session cookie, if any. */
  get session(): string | undefined {
    return this.jars.get(new URL(CONSOLE_ORIGIN).host)?.get('isthmus-console-session');
  }
}

function text(html: string): string {
  return html.replace(/<[^>]*>/g, ' ').replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/\s+/g, ' ');
}

describe('console sign-in through an OpenID provider', () => {
  let server: Server;
  let issuer: string;
  let provider: Provider;
  let store: Store;
  let app: Hono;
  let config: GatewayConfig;
  /** When set, the provider's token endpoint answers with this ID token instead of its own: a provider (or a man in the middle) handing over another client's token. */
  let swapIdToken: string | undefined;
  const logged: unknown[] = [];

  beforeAll(async () => {
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    provider = new Provider(issuer, {
      clients: [
        { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [CALLBACK], post_logout_redirect_uris: [`${CONSOLE_ORIGIN}/console/sign-in?notice=signedOut`], response_types: ['code'], grant_types: ['authorization_code'] },
        { client_id: OTHER_CLIENT, client_secret: 'other-secret-for-tests-only-0123456789', redirect_uris: [OTHER_CALLBACK], response_types: ['code'], grant_types: ['authorization_code'] },
      ],
      scopes: ['openid', 'isthmus'],
      claims: { openid: ['sub'], isthmus: ['bureau', 'roles', 'preferred_username'] },
      // The claims go into the ID token itself: the console reads nothing else.
      conformIdTokenClaims: false,
      cookies: { keys: ['cookie-key-for-tests-only'] },
      ttl: { Interaction: 600, Grant: 600, Session: 600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
      features: { rpInitiatedLogout: { enabled: true } },
      findAccount: (_ctx: unknown, id: string) => (ACCOUNTS[id] ? { accountId: id, claims: () => ({ sub: id, ...ACCOUNTS[id] }) } : undefined),
      // First-party clients of the city: consent is the city's, given once for all.
      async loadExistingGrant(ctx: ProviderContext) {
        const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
        grant.addOIDCScope('openid isthmus');
        grant.addOIDCClaims(['bureau', 'roles', 'preferred_username']);
        await grant.save();
        return grant;
      },
    });
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === '/token' && swapIdToken !== undefined && ctx.status === 200) ctx.body = { ...(ctx.body as object), id_token: swapIdToken };
    });
    server.on('request', provider.callback());

    const env = {
      ISTHMUS_ISSUERS: JSON.stringify([{ issuer, audience: [CLIENT_ID], algorithms: ['RS256'], jwksUrl: `${issuer}/jwks`, claims: { app: ['azp', 'aud'] } }]),
      ISTHMUS_CONSOLE_OIDC_ISSUER: issuer,
      ISTHMUS_CONSOLE_OIDC_CLIENT_ID: CLIENT_ID,
      ISTHMUS_CONSOLE_OIDC_CLIENT_SECRET: CLIENT_SECRET,
      ISTHMUS_CONSOLE_OIDC_REDIRECT_URI: CALLBACK,
      ISTHMUS_CONSOLE_OIDC_SCOPE: 'openid isthmus',
    };
    config = loadConfig(env);
    store = await storeTargets()[0]!.open();
    app = new Hono().route(
      '/console',
      createConsole({
        agreements: createAgreementStore(store.db),
        catalogue: demoCatalogue(),
        verifier: createTokenVerifier({ issuers: config.issuers }),
        oidc: config.consoleOidc!,
        log: { error: (...args: unknown[]) => logged.push(args), info: () => {} },
      }),
    );
  });
  afterAll(async () => {
    await store?.close();
    await new Promise((resolve) => server?.close(resolve));
  });
  beforeEach(() => {
    swapIdToken = undefined;
  });

  it('signs in with the code flow and PKCE; the session holds the principal the issuer’s claim mapping gives', async () => {
    const visitor = new Visitor(app);
    const signIn = await visitor.request(`${CONSOLE_ORIGIN}/console/sign-in`);
    expect(text(signIn.html)).toContain('通过统一身份认证登录');
    // No personas here: the picker is demo-only.
    expect(signIn.html).not.toContain('/sign-in/persona');

    const start = await visitor.request(`${CONSOLE_ORIGIN}/console/sign-in/oidc?next=${encodeURIComponent('/console/agreements')}`);
    expect(start.status).toBe(303);
    const authorization = new URL(start.location!);
    expect(authorization.origin).toBe(issuer);
    expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorization.searchParams.get('client_id')).toBe(CLIENT_ID);
    for (const parameter of ['state', 'nonce', 'code_challenge']) expect(authorization.searchParams.get(parameter)).toMatch(/^[\w-]{20,}$/);

    const callback = await visitor.throughProvider(start.location!, 'developer-19c2');
    expect(new URL(callback).searchParams.get('state')).toBe(authorization.searchParams.get('state'));
    const landed = await visitor.request(callback);
    expect(landed.status, landed.html).toBe(200);
    expect(landed.html).toContain('<meta http-equiv="refresh" content="0;url=/console/agreements">');
    expect(visitor.session).toBeDefined();

    const home = await visitor.request(`${CONSOLE_ORIGIN}/console`);
    expect(home.status, home.html).toBe(200);
    expect(text(home.html)).toContain('dev.19c2@hrss');
    const agreements = await visitor.request(`${CONSOLE_ORIGIN}/console/agreements`);
    expect(agreements.status, agreements.html).toBe(200);
  });

  it('a data officer of the provider lands in the inbox', async () => {
    const visitor = new Visitor(app);
    const start = await visitor.request(`${CONSOLE_ORIGIN}/console/sign-in/oidc`);
    const landed = await visitor.request(await visitor.throughProvider(start.location!, 'officer-7f3a'));
    expect(landed.html).toContain('url=/console/inbox');
    const inbox = await visitor.request(`${CONSOLE_ORIGIN}/console/inbox`);
    expect(inbox.status, inbox.html).toBe(200);
  });

  it('refuses a callback with a wrong state, in the reader’s language, and signs nobody in', async () => {
    const visitor = new Visitor(app);
    const start = await visitor.request(`${CONSOLE_ORIGIN}/console/sign-in/oidc`);
    const callback = new URL(await visitor.throughProvider(start.location!, 'developer-19c2'));
    callback.searchParams.set('state', 'forged-state-0123456789abcdef');
    const refused = await visitor.request(callback.href);
    expect(refused.status).toBe(400);
    expect(text(refused.html)).toContain('此登录请求不是由本控制台发起的');
    expect(text(refused.html)).toContain('STATE_MISMATCH');
    expect(visitor.session).toBeUndefined();
    expect((await visitor.request(`${CONSOLE_ORIGIN}/console`)).location).toContain('/console/sign-in');

    const english = await visitor.request(callback.href, { headers: { 'accept-language': 'en' } });
    expect(text(english.html)).toContain('This sign-in was not started by this console');
  });

  it('refuses a replayed callback and a replayed code, and signs nobody in', async () => {
    const visitor = new Visitor(app);
    const start = await visitor.request(`${CONSOLE_ORIGIN}/console/sign-in/oidc`);
    const callback = await visitor.throughProvider(start.location!, 'developer-19c2');
    expect((await visitor.request(callback)).status).toBe(200);

    // The same callback again, from another browser that has the URL: the sign-in it names is over.
    const thief = new Visitor(app);
    const replayed = await thief.request(callback);
    expect(replayed.status).toBe(400);
    expect(thief.session).toBeUndefined();

    // The old code under a sign-in of the thief's own: the provider refuses it (used, and another PKCE verifier).
    const own = await thief.request(`${CONSOLE_ORIGIN}/console/sign-in/oidc`);
    const state = new URL(own.location!).searchParams.get('state')!;
    const withOldCode = new URL(callback);
    withOldCode.searchParams.set('state', state);
    const refused = await thief.request(withOldCode.href);
    expect(refused.status, refused.html).toBe(401);
    expect(text(refused.html)).toContain('统一身份认证平台不接受此登录凭证');
    expect(thief.session).toBeUndefined();
  });

  it('refuses an ID token issued to another client, and signs nobody in', async () => {
    // A real ID token of the same provider for the same person, made for another client.
    const other = new Visitor(app);
    const authorize = new URL(`${issuer}/auth`);
    const verifier = 'v'.repeat(64);
    const challenge = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))).toString('base64url');
    for (const [name, value] of Object.entries({ client_id: OTHER_CLIENT, redirect_uri: OTHER_CALLBACK, response_type: 'code', scope: 'openid isthmus', state: 's'.repeat(32), code_challenge: challenge, code_challenge_method: 'S256' })) {
      authorize.searchParams.set(name, value);
    }
    const code = new URL(await other.throughProvider(authorize.href, 'officer-7f3a', OTHER_CALLBACK)).searchParams.get('code')!;
    const tokens = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${OTHER_CLIENT}:other-secret-for-tests-only-0123456789`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: OTHER_CALLBACK, code_verifier: verifier }),
    });
    const { id_token: idToken } = (await tokens.json()) as { id_token: string };
    expect(JSON.parse(Buffer.from(idToken.split('.')[1]!, 'base64url').toString()).aud).toBe(OTHER_CLIENT);

    swapIdToken = idToken;
    const visitor = new Visitor(app);
    const start = await visitor.request(`${CONSOLE_ORIGIN}/console/sign-in/oidc`);
    const refused = await visitor.request(await visitor.throughProvider(start.location!, 'officer-7f3a'));
    expect(refused.status, refused.html).toBe(401);
    expect(text(refused.html)).toContain('不是签发给本控制台的');
    expect(text(refused.html)).toContain('ID_TOKEN_INVALID');
    expect(visitor.session).toBeUndefined();
  });

  it('signing out ends the console session and leads to the provider’s end_session_endpoint', async () => {
    const visitor = new Visitor(app);
    const start = await visitor.request(`${CONSOLE_ORIGIN}/console/sign-in/oidc`);
    await visitor.request(await visitor.throughProvider(start.location!, 'developer-19c2'));
    await visitor.request(`${CONSOLE_ORIGIN}/console`);
    const session = visitor.session!;
    const out = await visitor.request(`${CONSOLE_ORIGIN}/console/sign-out`, { method: 'POST', body: new URLSearchParams({ _csrf: visitor.lastCsrf! }) });
    expect(out.status, out.html).toBe(200);
    const leave = /http-equiv="refresh" content="0;url=([^"]+)"/.exec(out.html)?.[1]?.replace(/&amp;/g, '&');
    expect(leave).toBeDefined();
    const endSession = new URL(leave!);
    expect(endSession.origin).toBe(issuer);
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${CONSOLE_ORIGIN}/console/sign-in?notice=signedOut`);
    expect(visitor.session).toBeUndefined();
    // The old session id no longer opens anything.
    const stale = new Visitor(app);
    stale.jars.set(new URL(CONSOLE_ORIGIN).host, new Map([['isthmus-console-session', session]]));
    expect((await stale.request(`${CONSOLE_ORIGIN}/console`)).location).toContain('/console/sign-in');
    // The provider knows the page and the client.
    expect((await fetch(leave!)).status).toBe(200);
  });

  it('checks the console’s OIDC settings eagerly, naming each problem', () => {
    const issuers = JSON.stringify([{ issuer, audience: ['isthmus-gateway'], algorithms: ['RS256'], jwksUrl: `${issuer}/jwks` }]);
    expect(() => loadConfig({ ISTHMUS_CONSOLE_OIDC_CLIENT_ID: CLIENT_ID })).toThrow(/ISTHMUS_CONSOLE_OIDC_ISSUER must be set/);
    expect(() => loadConfig({ ISTHMUS_CONSOLE_OIDC_ISSUER: 'https://sso.example/' })).toThrow(/must be one of the issuers in ISTHMUS_ISSUERS[\s\S]*CLIENT_ID must be set[\s\S]*REDIRECT_URI must be set/);
    expect(() => loadConfig({ ISTHMUS_ISSUERS: issuers, ISTHMUS_CONSOLE_OIDC_ISSUER: issuer, ISTHMUS_CONSOLE_OIDC_CLIENT_ID: CLIENT_ID, ISTHMUS_CONSOLE_OIDC_REDIRECT_URI: CALLBACK })).toThrow(/CLIENT_ID must be one of the audience values/);
    expect(() => loadConfig({ ISTHMUS_ISSUERS: issuers, ISTHMUS_CONSOLE_OIDC_ISSUER: issuer, ISTHMUS_CONSOLE_OIDC_CLIENT_ID: 'isthmus-gateway', ISTHMUS_CONSOLE_OIDC_REDIRECT_URI: 'http://console.city.example/console/sign-in/oidc/callback' })).toThrow(/REDIRECT_URI must be an https:\/\/ URL/);
    expect(() => loadConfig({ ISTHMUS_ISSUERS: issuers, ISTHMUS_CONSOLE_OIDC_ISSUER: issuer, ISTHMUS_CONSOLE_OIDC_CLIENT_ID: 'isthmus-gateway', ISTHMUS_CONSOLE_OIDC_REDIRECT_URI: CALLBACK, ISTHMUS_CONSOLE_OIDC_SCOPE: 'profile' })).toThrow(/SCOPE must include openid/);
    expect(config.consoleOidc).toEqual({ issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: CALLBACK, scope: 'openid isthmus' });
    expect(loadConfig({}).consoleOidc).toBeUndefined();
  });
});

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { secureHeaders } from 'hono/secure-headers';
import type { Catalogue } from '../../policies/catalogue.ts';
import type { LifecycleSettings } from '../../policies/agreement-lifecycle.ts';
import type { ConsoleOidcConfig } from '../config/config.ts';
import type { Role } from '../../policies/principal.ts';
import type { AgreementStore } from '../agreements/agreement-store.ts';
import { isAuthError } from '../auth/auth-error.ts';
import type { DevIssuer } from '../auth/dev-issuer.ts';
import type { TokenVerifier } from '../auth/verify-token.ts';
import type { Kysely } from 'kysely';
import type { AccessLogWriter } from '../access-log/access-log-writer.ts';
import type { ReceiptSource } from '../access-log/receipt-source.ts';
import { requestIdOf } from '../errors/request-id.ts';
import type { StoreSchema } from '../store/store-schema.ts';
import type { Logger } from '../observability/logger.ts';
import { createAuditorRoutes, type AuditorRoutesDeps } from './auditor-routes.ts';
import { createCitizenRoutes } from './citizen-routes.ts';
import { createConsoleAuditTrail, type ConsoleAuditTrail } from './console-audit-trail.ts';
import { createLogReads } from './console-log-reads.ts';
import type { OperationRegistry } from '../operations/operation-registry.ts';
import { createAgreementRoutes, type AgreementRoutesDeps, type AgreementUseReader } from './agreement-routes.ts';
import { createBureauNamer } from './bureau-names.ts';
import { createRequesterRoutes } from './requester-routes.ts';
import { createWitnessNamer } from './witness-names.ts';
import { createConsoleCookies } from './console-cookies.ts';
import type { ConsoleContext, ConsoleEnv, RenderPage } from './console-env.ts';
import { ConsoleError } from './console-error.ts';
import { readForm } from './console-form.ts';
import { PERSONA_ID, type ConsolePersona, type LocalName } from './console-persona.ts';
import { createConsoleSessions, DEFAULT_SESSION_TTL_MS, type ConsoleSessionOptions, type ConsoleSessions } from './console-sessions.ts';
import { newRandomToken, sameToken } from './csrf-token.ts';
import { createOidcSignIn } from './oidc-sign-in.ts';
import { createSigninRoutes } from './signin-routes.ts';
import { renderOnwardPage } from './views/signin-onward-page.ts';
import { asLocale, pickLocale } from './i18n/pick-locale.ts';
import { createTranslator, LOCALES, type Locale, type Translator } from './i18n/translator.ts';
import { renderErrorPage } from './views/error-page.ts';
import { neutralizeLayout } from '../../policies/display-safe-text.ts';
import { renderLayout } from './views/layout.ts';
import { pageBureauName, type PageContext } from './views/page-context.ts';
import { renderSignInPage, type SignInNotice } from './views/sign-in-page.ts';

/** Where the gateway mounts the console. */
export const DEFAULT_CONSOLE_BASE = '/console';
/**
 * Largest form the console reads: a reason is at most 2,000 characters, and
 * a Chinese character is 9 bytes once URL-encoded (`%E4%BD%A0`).
 */
export const DEFAULT_CONSOLE_MAX_FORM_BYTES = 32 * 1024;
/** Bound on verifying a sign-in token (the issuer's keys may have to be fetched). */
const SIGN_IN_TIMEOUT_MS = 5_000;
const STYLESHEET = new URL('./console.css', import.meta.url);

/** What the console needs from the gateway. */
export interface ConsoleDeps {
  readonly agreements: AgreementStore;
  readonly catalogue: Catalogue;
  /** The gateway's token verifier: a session holds the principal it maps a token to, exactly what the APIs would see. */
  readonly verifier: Pick<TokenVerifier, 'verify'>;
  /**
   * The demo's persona picker: offered only when this is given, which the
   * gateway does only while the dev issuer is on.
   */
  readonly personas?: { readonly issuer: Pick<DevIssuer, 'signDevToken'>; readonly list: readonly ConsolePersona[] };
  /**
   * The lifecycle's settings — the reply period and the national working calendar — exactly those the
   * admin API is given, so a request filed or submitted here gets the same reply-by date. Default: 10 days, Monday to Friday.
   */
  readonly lifecycle?: LifecycleSettings;
  /** An agreement's reads per day and consumer app (the access log's `readAgreementUse` over the gateway's store), charted on its page. */
  readonly agreementUse?: AgreementUseReader;
  /** The current use of an agreement's quota, shown beside its limits on the agreement's page (as the admin API's `quotaUse`). */
  readonly quotaUse?: AgreementRoutesDeps['quotaUse'];
  /** Sign-in through the city's identity provider (OpenID Connect code flow with PKCE); its issuer must be one the verifier trusts. */
  readonly oidc?: ConsoleOidcConfig;
  /** Registered operations per app: what an agreement pins is shown from here, and requesters pick from them. */
  readonly operations?: Pick<OperationRegistry, 'forApp' | 'documentOf' | 'appsOf'>;
  /** Names of bureaus the catalogue does not list (consumer bureaus), in both languages. */
  readonly bureauNames?: ReadonlyMap<string, LocalName>;
  /** What the purposes agreements name mean, in both languages, for people who do not read codes (citizens first). */
  readonly purposeNames?: ReadonlyMap<string, LocalName>;
  /** What the city calls its log's witnesses (by key name: `audit-office.demo-city` → 市审计局), for the receipts' words. */
  readonly witnessNames?: ReadonlyMap<string, LocalName>;
  /** Called after every change is stored and before the answer leaves: the gateway refreshes its agreement registry, as for the admin API. */
  readonly onChange?: () => Promise<void>;
  readonly log?: Pick<Logger, 'error' | 'info'>;
  /** The clock of pages, decisions and sessions; tests pass their own. */
  readonly now?: () => Date;
  /** Where the console is mounted. Default {@link DEFAULT_CONSOLE_BASE}. */
  readonly basePath?: string;
  /** Session lifetime, idle timeout and table size (their clock defaults to `now`). */
  readonly sessions?: ConsoleSessionOptions;
  /** `Secure` cookies: `'auto'` (default) leaves it off only for a browser on a loopback address. */
  readonly secureCookies?: boolean | 'auto';
  /** Default {@link DEFAULT_CONSOLE_MAX_FORM_BYTES}. */
  readonly maxFormBytes?: number;
  /**
   * The access log, for the auditor's and the citizen's pages and the
   * console's own audit trail: the store, the writer that records every read
   * of the log (as the access log API does), and the gateway's published
   * checkpoint keys that verification trusts, and where entries' receipts come
   * from (citizens' and data officers' pages). Without it those pages are absent.
   */
  readonly accessLog?: { readonly db: Kysely<StoreSchema>; readonly writer: Pick<AccessLogWriter, 'append'>; readonly verifyOptions?: AuditorRoutesDeps['verifyOptions']; readonly receipts?: ReceiptSource };
}

/**
 * The web console, a hono app the gateway mounts at `/console`: pages
 * rendered on the server (no build step, no script, no CDN), one stylesheet
 * served from here, in 简体中文 or English.
 *
 * Order of the middleware, and why:
 * 1. security headers on every answer, errors included (a strict CSP with no script at all);
 * 2. the stylesheet, which needs nothing else;
 * 3. the language, so that even a refusal is in the reader's words;
 * 4. the session, and the CSRF token the page's forms will carry;
 * 5. for a POST: the size bound, then the form, then its CSRF token — before any route looks at it;
 * 6. the sign-in routes, then a redirect to sign in for anyone else without a session.
 *
 * @example
 * app.route('/console', createConsole({ agreements, catalogue, verifier: auth.verifier, onChange: () => registry.refresh() }));
 */
export function createConsole(deps: ConsoleDeps): Hono<ConsoleEnv> {
  const base = deps.basePath ?? DEFAULT_CONSOLE_BASE;
  if (!/^\/[a-z0-9/-]*[a-z0-9]$/.test(base)) throw new TypeError(`basePath must be a path like /console, not ${JSON.stringify(base)}`);
  const maxFormBytes = deps.maxFormBytes ?? DEFAULT_CONSOLE_MAX_FORM_BYTES;
  const now = deps.now ?? (() => new Date());
  const personas = deps.personas?.list ?? [];
  for (const persona of personas) if (!PERSONA_ID.test(persona.id)) throw new TypeError(`persona id ${JSON.stringify(persona.id)} must be lowercase letters, digits and dashes`);
  const sessions: ConsoleSessions = createConsoleSessions({ now: () => now().getTime(), ...deps.sessions });
  const sessionTtlMs = deps.sessions?.ttlMs ?? DEFAULT_SESSION_TTL_MS;
  const cookies = createConsoleCookies(base, deps.secureCookies);
  const translators = new Map<Locale, Translator>(LOCALES.map((locale) => [locale, createTranslator(locale)]));
  const namer = createBureauNamer(deps.catalogue, deps.bureauNames);
  const css = readFileSync(STYLESHEET, 'utf8');
  const oidc = deps.oidc ? createOidcSignIn({ config: deps.oidc, now: () => now().getTime() }) : undefined;
  // Where a role's work starts, after any sign-in (persona or the city's identity provider).
  const landing = (roles: readonly Role[]) => landingOf(roles, base, deps.accessLog !== undefined);
  // The file's hash in its URL: browsers may keep it for good, and a new release is a new URL.
  const trail: ConsoleAuditTrail | undefined = deps.accessLog && createConsoleAuditTrail({ db: deps.accessLog.db, now });
  const stylesheet = `${base}/assets/console-${createHash('sha256').update(css).digest('hex').slice(0, 12)}.css`;

  const render: RenderPage = async (c, title, body, status = 200) => {
    const t = c.get('t');
    const page: PageContext = { t, base, stylesheet, csrf: c.get('csrf'), session: c.get('session'), here: c.get('here'), bureauName: pageBureauName(namer, t), purposeName: (purpose) => localName(deps.purposeNames?.get(purpose), t.locale) ?? purpose, ...(deps.lifecycle?.calendar ? { calendar: deps.lifecycle.calendar } : {}) };
    c.header('cache-control', 'no-store');
    // hono/html escapes markup, not control characters: stored text with a bidirectional override or an escape
    // sequence (rows stored before inputs refused them, a token's user id) is shown as inert \uXXXX on every page.
    const markup = await renderLayout(page, title, body(page));
    return c.html(neutralizeLayout(String(markup)), status as ContentfulStatusCode);
  };

  const app = new Hono<ConsoleEnv>();

  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      referrerPolicy: 'no-referrer',
      xFrameOptions: 'DENY',
      crossOriginResourcePolicy: 'same-origin',
      crossOriginOpenerPolicy: 'same-origin',
      permissionsPolicy: { camera: [], microphone: [], geolocation: [], payment: [] },
      // HSTS belongs to whoever terminates TLS; on the demo's loopback HTTP it would only confuse browsers.
      strictTransportSecurity: false,
    }),
  );

  // Before the session: fetching the stylesheet neither touches a session's idle clock nor hands out a visitor token.
  app.get(`/assets/${stylesheet.split('/').pop()}`, (c) => c.body(css, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=31536000, immutable' }));

  app.use('*', async (c, next) => {
    c.set('t', translators.get(pickLocale(cookies.language(c), c.req.header('accept-language')))!);
    const id = cookies.session(c);
    const session = id === undefined ? undefined : sessions.resume(id);
    c.set('session', session);
    // A dead id's cookie is left to its Max-Age: until the next sign-in replaces it, every page can say "expired" rather than "sign in".
    c.set('lapsed', id !== undefined && session === undefined);
    let visitor = cookies.visitor(c);
    if (!session && !visitor) {
      visitor = newRandomToken();
      cookies.setVisitor(c, visitor);
    }
    c.set('csrf', session ? session.csrfToken : visitor!);
    const url = new URL(c.req.url);
    c.set('here', c.req.method === 'GET' ? `${url.pathname}${url.search}` : base);
    await next();
  });

  app.post(
    '*',
    bodyLimit({
      maxSize: maxFormBytes,
      onError: () => {
        throw new ConsoleError('LIMIT_EXCEEDED', `a console form is larger than ${maxFormBytes} bytes`, { params: { max: maxFormBytes } });
      },
    }),
    async (c, next) => {
      const form = await readForm(c);
      const session = c.get('session');
      // The token the request itself brought: a visitor cookie made for this very request proves nothing.
      const expected = session ? session.csrfToken : cookies.visitor(c);
      if (!sameToken(form.get('_csrf'), expected)) {
        // A form of a session that has since ended carries that session's token: say what happened, not "forged".
        throw c.get('lapsed') ? new ConsoleError('SESSION_EXPIRED', 'the session of this form has ended') : new ConsoleError('CSRF_INVALID', 'the form carries no valid CSRF token');
      }
      c.set('form', form);
      await next();
    },
  );

  app.get('/sign-in', (c) => {
    if (c.get('session')) return c.redirect(base, 303);
    const asked = c.req.query('notice');
    const notice: SignInNotice | undefined = c.get('lapsed') ? 'expired' : asked === 'signedOut' || asked === 'required' || asked === 'expired' ? asked : undefined;
    const next = returnTo(c.req.query('next'), base);
    return render(c, c.get('t').t('signIn.title'), (page) => renderSignInPage(page, personas, notice, next, oidc !== undefined));
  });

  app.post('/sign-in/persona', async (c) => {
    const picker = deps.personas;
    if (!picker) throw new ConsoleError('NOT_FOUND', 'the persona picker is off (the dev issuer is off)');
    const persona = personas.find((candidate) => candidate.id === c.get('form').get('persona'));
    if (!persona) throw new ConsoleError('BAD_USER_INPUT', 'no such persona');
    let principal;
    try {
      const token = await picker.issuer.signDevToken({ ...persona.claims, ttl: Math.ceil(sessionTtlMs / 1_000) });
      // The same verification as /graphql and the admin API: the session holds what they would see.
      principal = await deps.verifier.verify(token, AbortSignal.timeout(SIGN_IN_TIMEOUT_MS));
    } catch (error) {
      if (isAuthError(error) && error.code === 'KEYS_UNAVAILABLE') throw new ConsoleError('UPSTREAM_UNAVAILABLE', 'the issuer keys cannot be fetched', { cause: error });
      if (isAuthError(error)) throw new ConsoleError('UNAUTHENTICATED', 'the persona token did not verify', { cause: error });
      throw error;
    }
    const previous = cookies.session(c);
    if (previous) sessions.end(previous);
    const session = sessions.create(principal, 'persona');
    cookies.setSession(c, session.id, (session.expiresAt - session.createdAt) / 1_000);
    await trail?.record({ action: 'SIGN_IN', outcome: 'DONE', actor: principal, detail: { method: 'persona', persona: persona.id }, requestId: requestIdOf(c.req.raw) });
    deps.log?.info({ persona: persona.id, bureau: principal.bureau, method: 'persona' }, 'console sign-in');
    // Back to the page that sent them to sign in; else where the role's work starts.
    const next = returnTo(c.get('form').get('next'), base);
    return c.redirect(next ?? landing(principal.roles), 303);
  });

  app.post('/sign-out', async (c) => {
    const id = cookies.session(c);
    const leaving = c.get('session');
    if (leaving) await trail?.record({ action: 'SIGN_OUT', outcome: 'DONE', actor: leaving.principal, requestId: requestIdOf(c.req.raw) });
    if (id) sessions.end(id);
    cookies.clearSession(c);
    const signedOut = `${base}/sign-in?notice=signedOut`;
    // Signed in at the identity provider: end that session too (RP-initiated logout), when the provider offers it.
    const leave = oidc && deps.oidc && c.get('session')?.method === 'oidc' ? await oidc.endSessionUrl(new URL(signedOut, deps.oidc.redirectUri).href, AbortSignal.timeout(SIGN_IN_TIMEOUT_MS)) : undefined;
    if (!leave) return c.redirect(signedOut, 303);
    c.set('session', undefined);
    return render(c, c.get('t').t('signin.signedOut.title'), (page) => renderOnwardPage(page, { title: 'signin.signedOut.title', text: 'signin.signedOut.text', link: 'signin.signedOut.link' }, leave));
  });

  app.post('/language', (c) => {
    const form = c.get('form');
    const locale = asLocale(form.get('lang'));
    if (!locale) throw new ConsoleError('BAD_USER_INPUT', 'lang must be one of the console languages');
    cookies.setLanguage(c, locale);
    return c.redirect(returnTo(form.get('next'), base) ?? base, 303);
  });

  if (oidc) {
    app.route('/', createSigninRoutes({ oidc, verifier: deps.verifier, sessions, cookies, render, base, landing, returnTo: (next) => returnTo(next, base), ...(deps.secureCookies === undefined ? {} : { secureCookies: deps.secureCookies }), ...(deps.log ? { log: deps.log } : {}) }));
  }

  // Signed-out visitors of any other page go to the sign-in page, told why.
  app.use('*', async (c, next) => {
    if (c.get('session') || c.req.method !== 'GET') return next();
    const here = c.get('here');
    // The start page is where signing in leads anyway (or to the role's own start, `landingOf`).
    const back = here === base ? '' : `&next=${encodeURIComponent(here)}`;
    return c.redirect(`${base}/sign-in?notice=${c.get('lapsed') ? 'expired' : 'required'}${back}`, 303);
  });

  app.route('/', createAgreementRoutes({ agreements: deps.agreements, catalogue: deps.catalogue, now, render, base, ...(deps.onChange ? { onChange: deps.onChange } : {}), ...(trail ? { trail } : {}), ...(deps.agreementUse ? { use: deps.agreementUse } : {}), ...(deps.quotaUse ? { quotaUse: deps.quotaUse } : {}), ...(deps.operations ? { operations: deps.operations } : {}) }));
  const readLog = deps.accessLog && createLogReads({ db: deps.accessLog.db, writer: deps.accessLog.writer, now, ...(deps.accessLog.receipts && { receipts: deps.accessLog.receipts }) });
  const witnessName = createWitnessNamer(deps.witnessNames);
  if (deps.accessLog && readLog && trail) app.route('/', createAuditorRoutes({ readLog, trail, db: deps.accessLog.db, render, base, witnessName, ...(deps.accessLog.verifyOptions ? { verifyOptions: deps.accessLog.verifyOptions } : {}) }));
  if (readLog) app.route('/', createCitizenRoutes({ readLog, agreements: deps.agreements, catalogue: deps.catalogue, render, witnessName }));
  app.route('/', createRequesterRoutes({ agreements: deps.agreements, catalogue: deps.catalogue, now, render, base, ...(deps.lifecycle ? { lifecycle: deps.lifecycle } : {}), ...(deps.onChange ? { onChange: deps.onChange } : {}), ...(deps.operations ? { operations: deps.operations } : {}) }));

  // A route of its own rather than notFound(): mounted with app.route(), the console's routes join the gateway's router, whose notFound is JSON.
  app.all('*', () => {
    throw new ConsoleError('NOT_FOUND', 'no such console page');
  });
  app.onError((error, c) => {
    const shown = error instanceof ConsoleError ? error : new ConsoleError('INTERNAL', 'unexpected error in the console', { cause: error });
    if (shown.code === 'INTERNAL') deps.log?.error({ err: error }, 'unexpected error in the console');
    return showError(c, shown);
  });

  const showError = (c: ConsoleContext, error: ConsoleError) => {
    // The middleware may not have run (a failure before it): fall back to the default language and no form token.
    if (!c.get('t')) c.set('t', translators.get(pickLocale(undefined, c.req.header('accept-language')))!);
    if (c.get('csrf') === undefined) c.set('csrf', '');
    if (c.get('here') === undefined) c.set('here', base);
    const t = c.get('t');
    return render(c, t.t(`error.${error.code}.title`), (page) => renderErrorPage(page, error, c.req.header('x-request-id')), error.status);
  };
  return app;
}

/**
 * Where signing in leads when no page asked for it: a data officer's work
 * starts in the inbox, an auditor's in the access log, a citizen's at their
 * reads (those two only where the console has the log); anyone else at home.
 */
function landingOf(roles: readonly Role[], base: string, hasLog: boolean): string {
  if (roles.includes('data_officer')) return `${base}/inbox`;
  if (hasLog && roles.includes('auditor')) return `${base}/audit/log`;
  if (hasLog && roles.includes('citizen')) return `${base}/citizen/reads`;
  return base;
}

/** Where a form may send the browser back to: a page of the console, never another site; undefined for anything else. */
function returnTo(next: string | undefined, base: string): string | undefined {
  if (!next || next.length > 2_000) return undefined;
  if (!(next === base || next.startsWith(`${base}/`) || next.startsWith(`${base}?`))) return undefined;
  // `//` or a backslash could turn a path into another host in some browsers; the sign-in page is no place to return to.
  if (next.includes('//') || next.includes('\\') || next.startsWith(`${base}/sign-`)) return undefined;
  return next;
}

/** A name in the reader's language, when there is one. */
function localName(name: LocalName | undefined, locale: Locale): string | undefined {
  return name && (locale === 'zh-CN' ? name.zh : name.en);
}

import type { Role } from '../../policies/principal.ts';
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { isAuthError } from '../auth/auth-error.ts';
import type { TokenVerifier } from '../auth/verify-token.ts';
import type { Logger } from '../observability/logger.ts';
import { isLoopbackHost, type ConsoleCookies } from './console-cookies.ts';
import type { ConsoleContext, ConsoleEnv, RenderPage } from './console-env.ts';
import type { ConsoleSessions } from './console-sessions.ts';
import { OidcSignInError } from './oidc-sign-in-error.ts';
import type { OidcSignIn } from './oidc-sign-in.ts';
import { renderOnwardPage } from './views/signin-onward-page.ts';
import { renderSigninRefusedPage } from './views/signin-refused-page.ts';

/** Bound on one step of a sign-in: a provider call, or verifying the ID token (whose keys may have to be fetched). */
const SIGNIN_STEP_TIMEOUT_MS = 5_000;
/** The cookie naming the sign-in under way lives as long as the console remembers the sign-in. */
const PENDING_COOKIE_MAX_AGE_S = 10 * 60;
const PENDING_COOKIE = 'isthmus-console-oidc';

/** What the sign-in routes need from the console. */
export interface SigninRouteDeps {
  readonly oidc: OidcSignIn;
  readonly verifier: Pick<TokenVerifier, 'verify'>;
  readonly sessions: ConsoleSessions;
  readonly cookies: Pick<ConsoleCookies, 'session' | 'setSession'>;
  readonly render: RenderPage;
  readonly base: string;
  /** Where a signed-in person goes when the sign-in named no page to return to. */
  readonly landing: (roles: readonly Role[]) => string;
  /** A console page to return to, checked (never another site), or undefined. */
  readonly returnTo: (next: string | undefined) => string | undefined;
  readonly secureCookies?: boolean | 'auto';
  readonly log?: Pick<Logger, 'info'>;
}

const STATUS = { STATE_MISMATCH: 400, PROVIDER_REFUSED: 401, CODE_REJECTED: 401, ID_TOKEN_INVALID: 401, PROVIDER_UNAVAILABLE: 503 } as const;

/**
 * Sign-in through the city's identity provider: `GET /sign-in/oidc` starts
 * the authorization code flow (state, nonce, PKCE S256) and sends the
 * browser to the provider; `GET /sign-in/oidc/callback` completes it. The
 * ID token is then verified by the gateway's own verifier, with the
 * issuer's claim mapping, so a session holds exactly the principal the APIs
 * would see for that person. A refusal is a page in the reader's language
 * and signs nobody in.
 *
 * The cookie that ties the callback to the browser that started the
 * sign-in is SameSite=Lax: the provider's redirect back is a cross-site
 * navigation, which a Strict cookie would not ride on.
 */
export function createSigninRoutes(deps: SigninRouteDeps): Hono<ConsoleEnv> {
  const { oidc, base } = deps;
  const secure = (c: ConsoleContext) => (deps.secureCookies === undefined || deps.secureCookies === 'auto' ? !isLoopbackHost(new URL(c.req.url).hostname) : deps.secureCookies);
  const cookiePath = `${base}/sign-in/oidc`;
  const app = new Hono<ConsoleEnv>();

  const refuse = (c: ConsoleContext, error: OidcSignInError) => {
    deps.log?.info({ reason: error.code, providerError: error.providerError, err: error.cause ?? error }, 'console sign-in refused');
    return deps.render(c, c.get('t').t('signin.refused.title'), (page) => renderSigninRefusedPage(page, error.code), STATUS[error.code]);
  };

  app.get('/sign-in/oidc', async (c) => {
    if (c.get('session')) return c.redirect(base, 303);
    let started;
    try {
      started = await oidc.start(deps.returnTo(c.req.query('next')), AbortSignal.timeout(SIGNIN_STEP_TIMEOUT_MS));
    } catch (error) {
      if (error instanceof OidcSignInError) return refuse(c, error);
      throw error;
    }
    setCookie(c, PENDING_COOKIE, started.id, { path: cookiePath, httpOnly: true, secure: secure(c), sameSite: 'Lax', maxAge: PENDING_COOKIE_MAX_AGE_S });
    return c.redirect(started.url, 303);
  });

  app.get('/sign-in/oidc/callback', async (c) => {
    const pending = getCookie(c, PENDING_COOKIE);
    deleteCookie(c, PENDING_COOKIE, { path: cookiePath, secure: secure(c) });
    let principal;
    let next;
    try {
      const result = await oidc.finish(pending, new URL(c.req.url), AbortSignal.timeout(SIGNIN_STEP_TIMEOUT_MS));
      next = result.next;
      try {
        principal = await deps.verifier.verify(result.idToken, AbortSignal.timeout(SIGNIN_STEP_TIMEOUT_MS));
      } catch (error) {
        if (!isAuthError(error)) throw error;
        throw new OidcSignInError(error.code === 'KEYS_UNAVAILABLE' ? 'PROVIDER_UNAVAILABLE' : 'ID_TOKEN_INVALID', `the gateway's verification refused the ID token (${error.code})`, { cause: error });
      }
    } catch (error) {
      if (error instanceof OidcSignInError) return refuse(c, error);
      throw error;
    }
    const previous = deps.cookies.session(c);
    if (previous) deps.sessions.end(previous);
    const session = deps.sessions.create(principal, 'oidc');
    deps.cookies.setSession(c, session.id, (session.expiresAt - session.createdAt) / 1_000);
    deps.log?.info({ bureau: principal.bureau, method: 'oidc' }, 'console sign-in');
    // The page is rendered signed out (this request carried no session); the next one is the console's own.
    const to = next ?? deps.landing(principal.roles);
    return deps.render(c, c.get('t').t('signin.continue.title'), (page) => renderOnwardPage(page, { title: 'signin.continue.title', text: 'signin.continue.text', link: 'signin.continue.link' }, to));
  });

  return app;
}

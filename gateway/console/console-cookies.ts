import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Locale } from './i18n/translator.ts';

/** The language choice is kept for a year: it is a preference, not a secret. */
const LANGUAGE_COOKIE_MAX_AGE_S = 365 * 24 * 60 * 60;
/** The signed-out visitor's CSRF token lives as long as a sign-in form may stay open. */
const VISITOR_COOKIE_MAX_AGE_S = 2 * 60 * 60;

/** Hosts a browser reaches without a network: the only place a cookie may go without `Secure`. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/** The cookies of the console, named and set in one place. */
export interface ConsoleCookies {
  /** The session id, or undefined. */
  session(c: Context): string | undefined;
  setSession(c: Context, id: string, maxAgeSeconds: number): void;
  clearSession(c: Context): void;
  /** The CSRF token of a signed-out visitor (for the sign-in and language forms), or undefined. */
  visitor(c: Context): string | undefined;
  setVisitor(c: Context, token: string): void;
  /** The language the user picked, as sent (checked by the caller). */
  language(c: Context): string | undefined;
  setLanguage(c: Context, locale: Locale): void;
}

/**
 * Cookies scoped to the console's path, HttpOnly and SameSite=Strict, and
 * `Secure` unless the browser reached the console on a loopback address
 * (`secure: 'auto'`, the default), where plain HTTP is all there is. Secure
 * cookies take the `__Host-` prefix's rules in spirit (no Domain) but keep
 * the console's path, so they never ride along to `/graphql`.
 */
export function createConsoleCookies(basePath: string, secure: boolean | 'auto' = 'auto'): ConsoleCookies {
  const isSecure = (c: Context) => (secure === 'auto' ? !isLoopbackHost(new URL(c.req.url).hostname) : secure);
  const options = (c: Context, maxAge: number, sameSite: 'Strict' | 'Lax' = 'Strict') => ({ path: basePath, httpOnly: true, secure: isSecure(c), sameSite, maxAge });
  const SESSION = 'isthmus-console-session';
  const VISITOR = 'isthmus-console-visitor';
  const LANGUAGE = 'isthmus-console-lang';
  return {
    session: (c) => getCookie(c, SESSION),
    setSession: (c, id, maxAgeSeconds) => setCookie(c, SESSION, id, options(c, Math.max(1, Math.floor(maxAgeSeconds)))),
    clearSession: (c) => deleteCookie(c, SESSION, { path: basePath, secure: isSecure(c) }),
    visitor: (c) => getCookie(c, VISITOR),
    setVisitor: (c, token) => setCookie(c, VISITOR, token, options(c, VISITOR_COOKIE_MAX_AGE_S)),
    language: (c) => getCookie(c, LANGUAGE),
    // Lax: a link from elsewhere (a mail, the portal) should open in the language the person chose.
    setLanguage: (c, locale) => setCookie(c, LANGUAGE, locale, options(c, LANGUAGE_COOKIE_MAX_AGE_S, 'Lax')),
  };
}

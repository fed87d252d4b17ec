import { html } from 'hono/html';
import type { MessageKey } from '../i18n/translator.ts';
import type { Markup } from './layout.ts';
import type { PageContext } from './page-context.ts';

/** The words of an onward page: its heading, what is happening, and the link for a browser that does not follow the refresh. */
export interface OnwardWords {
  readonly title: MessageKey;
  readonly text: MessageKey;
  readonly link: MessageKey;
}

/**
 * A page that sends the browser on to `to` by itself (a meta refresh: no
 * script, which the CSP forbids) and offers the same as a link.
 *
 * Why a page, not a redirect: after the identity provider's callback, a
 * redirect would still be part of a navigation the provider's site started,
 * and browsers then hold back the SameSite=Strict session cookie; the
 * console's own page starting the next navigation makes it same-site. On
 * sign-out, it lets a form's answer lead to the provider (a redirect would
 * fall under the CSP's `form-action 'self'`).
 */
export function renderOnwardPage(ctx: PageContext, words: OnwardWords, to: string): Markup {
  const { t } = ctx;
  return html`<meta http-equiv="refresh" content="0;url=${to}">
    <h1>${t.t(words.title)}</h1>
    <p role="status">${t.t(words.text)}</p>
    <p><a href="${to}">${t.t(words.link)}</a></p>`;
}

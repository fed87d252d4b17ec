import { html } from 'hono/html';
import type { ConsoleError } from '../console-error.ts';
import type { Markup } from './layout.ts';
import type { PageContext } from './page-context.ts';

/**
 * A refusal or failure in the reader's language: what happened, what to do,
 * the code, and the request id to quote. Never the cause, a token or SQL.
 */
export function renderErrorPage(ctx: PageContext, error: ConsoleError, requestId: string | undefined): Markup {
  const { t } = ctx;
  const signIn = error.code === 'SESSION_EXPIRED' || error.code === 'UNAUTHENTICATED';
  return html`<h1>${t.t(`error.${error.code}.title`)}</h1>
    <div class="notice refusal" role="alert">
      <p>${t.t(`error.${error.code}`, error.params)}</p>
      <p class="code">${t.t('error.codeLabel', { code: error.code })}</p>
      ${requestId ? html`<p class="code">${t.t('error.requestId', { id: requestId })}</p>` : ''}
    </div>
    <p>${signIn ? html`<a href="${ctx.base}/sign-in">${t.t('error.signInAgain')}</a>` : html`<a href="${ctx.base}">${t.t('error.backHome')}</a>`}</p>`;
}

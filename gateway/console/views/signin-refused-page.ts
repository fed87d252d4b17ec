import { html } from 'hono/html';
import type { OidcSignInFailure } from '../oidc-sign-in-error.ts';
import type { Markup } from './layout.ts';
import type { PageContext } from './page-context.ts';

/** A sign-in through the identity provider that did not complete: why, in the reader's words, that nobody was signed in, and a way to start again. */
export function renderSigninRefusedPage(ctx: PageContext, failure: OidcSignInFailure): Markup {
  const { t } = ctx;
  return html`<h1>${t.t('signin.refused.title')}</h1>
    <div class="notice refusal" role="alert">
      <p>${t.t(`signin.refused.${failure}`)}</p>
      <p class="code">${t.t('error.codeLabel', { code: failure })}</p>
    </div>
    <p><a href="${ctx.base}/sign-in">${t.t('signin.refused.again')}</a></p>`;
}

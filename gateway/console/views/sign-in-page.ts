import { html } from 'hono/html';
import type { ConsolePersona } from '../console-persona.ts';
import type { MessageKey } from '../i18n/translator.ts';
import { csrfField, type Markup } from './layout.ts';
import type { PageContext } from './page-context.ts';

/** Why the sign-in page is shown, when it is not the first visit. */
export type SignInNotice = 'expired' | 'signedOut' | 'required';

const NOTICES: Readonly<Record<SignInNotice, MessageKey>> = {
  expired: 'signIn.notice.expired',
  signedOut: 'signIn.notice.signedOut',
  required: 'signIn.notice.required',
};

/**
 * The sign-in page: the city's identity provider (OpenID Connect) when it
 * is configured, and in the demo (dev issuer on) a list of personas, each a
 * one-button form; with neither, it says that no sign-in is configured.
 * `next` is the console page to return to after signing in, already
 * checked by the caller.
 */
export function renderSignInPage(ctx: PageContext, personas: readonly ConsolePersona[], notice: SignInNotice | undefined, next: string | undefined, oidc = false): Markup {
  const { t } = ctx;
  const name = (persona: ConsolePersona) => (t.locale === 'zh-CN' ? persona.name.zh : persona.name.en);
  // A link, not a form: starting a sign-in changes nothing here, and a form's redirect to the provider would fall under the CSP's form-action 'self'.
  const provider = oidc
    ? html`<p>${t.t('signin.oidc.intro')}</p>
      <p><a class="button primary" href="${ctx.base}/sign-in/oidc${next ? `?next=${encodeURIComponent(next)}` : ''}">${t.t('signin.oidc.button')}</a></p>`
    : '';
  return html`<h1>${t.t('signIn.title')}</h1>
    ${notice ? html`<p class="notice" role="status">${t.t(NOTICES[notice])}</p>` : ''}
    ${provider}
    ${personas.length === 0
      ? oidc ? '' : html`<p>${t.t('signIn.unavailable')}</p>`
      : html`<p>${t.t('signIn.personasIntro')}</p>
        <ul class="personas">
          ${personas.map(
            (persona) => html`<li>
              <form method="post" action="${ctx.base}/sign-in/persona">
                ${csrfField(ctx)}<input type="hidden" name="persona" value="${persona.id}">${next ? html`<input type="hidden" name="next" value="${next}">` : ''}
                <button type="submit" class="persona">
                  <span class="persona-name">${name(persona)}</span>
                  <span class="persona-role">${(persona.claims.roles ?? []).map((role) => t.t(`role.${role}`)).join(t.t('list.separator'))}</span>
                  <span class="persona-bureau">${ctx.bureauName(persona.claims.bureau)}</span>
                </button>
              </form>
            </li>`,
          )}
        </ul>
        <p class="hint">${t.t('signIn.personasHint')}</p>`}`;
}

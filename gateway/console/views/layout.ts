import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { LOCALES } from '../i18n/translator.ts';
import type { PageContext } from './page-context.ts';

/** Markup the views build: hono's escaped HTML, sync or async. */
export type Markup = HtmlEscapedString | Promise<HtmlEscapedString>;

/** The hidden field that carries a page's CSRF token; every console form has one. */
export function csrfField(ctx: PageContext): Markup {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrf}">`;
}

/**
 * The frame of every page: language, a skip link, the navigation the
 * signed-in person's roles open, who they are with a sign-out button, and
 * the language switch (a form, so it works without script and carries a
 * CSRF token like every other POST).
 */
export function renderLayout(ctx: PageContext, title: string, body: Markup): Markup {
  const { t, base, session } = ctx;
  const roles = session?.principal.roles ?? [];
  const nav = session
    ? html`<nav class="nav" aria-label="${t.t('layout.navigation')}">
        <ul>
          <li><a href="${base}">${t.t('nav.home')}</a></li>
          ${roles.includes('data_officer') ? html`<li><a href="${base}/inbox">${t.t('nav.inbox')}</a></li>` : ''}
          ${roles.includes('data_officer') || roles.includes('developer') ? html`<li><a href="${base}/agreements">${t.t('nav.agreements')}</a></li>` : ''}
          ${roles.includes('auditor') || roles.includes('data_officer') ? html`<li><a href="${base}/audit/log">${t.t('nav.auditLog')}</a></li>` : ''}
          ${roles.includes('auditor') ? html`<li><a href="${base}/audit/verify">${t.t('nav.auditVerify')}</a></li><li><a href="${base}/audit/trail">${t.t('nav.auditTrail')}</a></li>` : ''}
          ${roles.includes('auditor') || roles.includes('operator') ? html`<li><a href="${base}/security-events">${t.t('secevents.nav')}</a></li>` : ''}
          ${roles.includes('citizen') ? html`<li><a href="${base}/citizen/reads">${t.t('nav.citizenReads')}</a></li>` : ''}
          ${roles.includes('data_officer') || roles.includes('developer') ? html`<li><a href="${base}/requests">${t.t('nav.requests')}</a></li>` : ''}
          ${roles.includes('data_officer') || roles.includes('developer') ? html`<li><a href="${base}/catalogue">${t.t('nav.catalogue')}</a></li>` : ''}
        </ul>
      </nav>`
    : '';
  const who = session
    ? html`<div class="who">
        <span>${t.t('layout.signedInAs', { user: session.principal.user ?? session.principal.subject, bureau: ctx.bureauName(session.principal.bureau) })}</span>
        <form method="post" action="${base}/sign-out" class="inline">${csrfField(ctx)}<button type="submit" class="link">${t.t('layout.signOut')}</button></form>
      </div>`
    : '';
  return html`<!doctype html>
<html lang="${t.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t.t('layout.title', { page: title })}</title>
<link rel="stylesheet" href="${ctx.stylesheet}">
</head>
<body>
<a class="skip" href="#main">${t.t('layout.skip')}</a>
<header class="top">
  <a class="brand" href="${base}">${t.t('app.name')}</a>
  ${nav}
  ${who}
  <form method="post" action="${base}/language" class="language">
    ${csrfField(ctx)}<input type="hidden" name="next" value="${ctx.here}">
    <span id="language-label" class="visually-hidden">${t.t('layout.language')}</span>
    <div role="group" aria-labelledby="language-label">
      ${LOCALES.map(
        (locale) =>
          html`<button type="submit" name="lang" value="${locale}" lang="${locale}" ${locale === t.locale ? html`aria-pressed="true"` : html`aria-pressed="false"`}>${t.t(`language.${locale}`)}</button>`,
      )}
    </div>
  </form>
</header>
<main id="main" tabindex="-1">
${body}
</main>
<footer class="foot"><p>${t.t('layout.footer')}</p></footer>
</body>
</html>`;
}

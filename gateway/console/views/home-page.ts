import { html } from 'hono/html';
import type { Role } from '../../../policies/principal.ts';
import type { Markup } from './layout.ts';
import type { PageContext } from './page-context.ts';

/** What the home page knows beyond the session: the inbox's counts, for data officers. */
export interface HomeFacts {
  readonly pending?: number;
  readonly late?: number;
}

/**
 * The signed-in person's start: who they are, and a card for each thing
 * their roles let them do here. An operator, whose work is mostly elsewhere
 * (the CLI, the health and metrics endpoints), is told so plainly.
 */
export function renderHomePage(ctx: PageContext, facts: HomeFacts): Markup {
  const { t, base, session } = ctx;
  const principal = session!.principal;
  const roles: readonly Role[] = principal.roles;
  const card = (href: string, title: string, text: string) => html`<li class="card"><a href="${href}"><span class="card-title">${title}</span><span>${text}</span></a></li>`;
  return html`<h1>${t.t('home.title', { user: principal.user ?? principal.subject })}</h1>
    <p>${t.t('home.roles', { roles: roles.map((role) => t.t(`role.${role}`)).join(t.t('list.separator')), bureau: ctx.bureauName(principal.bureau) })}</p>
    <ul class="cards">
      ${roles.includes('data_officer')
        ? card(`${base}/inbox`, t.t('nav.inbox'), t.t('home.inbox', { count: facts.pending ?? 0, late: facts.late ?? 0 }))
        : ''}
      ${roles.includes('data_officer') ? card(`${base}/agreements`, t.t('nav.agreements'), t.t('home.agreementsProvided')) : ''}
      ${roles.includes('data_officer') || roles.includes('developer')
        ? card(`${base}/agreements?side=consumed`, t.t('agreements.side.consumed'), t.t('home.agreementsConsumed'))
        : ''}
      ${roles.includes('operator') && !roles.includes('auditor') ? card(`${base}/audit/log`, t.t('nav.auditLog'), t.t('auditor.home.log')) : ''}
      ${roles.includes('auditor') ? html`${card(`${base}/audit/log`, t.t('nav.auditLog'), t.t('auditor.home.log'))}${card(`${base}/audit/verify`, t.t('nav.auditVerify'), t.t('auditor.home.verify'))}${card(`${base}/audit/trail`, t.t('nav.auditTrail'), t.t('auditor.home.trail'))}` : ''}
      ${roles.includes('auditor') || roles.includes('operator') ? card(`${base}/security-events`, t.t('secevents.nav'), t.t('secevents.home')) : ''}
      ${roles.includes('citizen') ? card(`${base}/citizen/reads`, t.t('nav.citizenReads'), t.t('citizen.home')) : ''}
    </ul>
    ${roles.includes('operator') ? html`<p class="notice" role="note">${t.t('home.operator')}</p>` : ''}`;
}

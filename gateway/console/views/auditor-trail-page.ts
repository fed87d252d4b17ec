import { html } from 'hono/html';
import { CONSOLE_AUDIT_ACTIONS, type ConsoleAuditAction, type ConsoleAuditRecord } from '../console-audit-trail.ts';
import type { Markup } from './layout.ts';
import type { PageContext } from './page-context.ts';

/** The console's own audit trail, newest first: every sign-in, sign-out, decision, export and verification run, by whom. */
export function renderAuditTrailPage(ctx: PageContext, items: readonly ConsoleAuditRecord[], action: ConsoleAuditAction | undefined, more: string | undefined): Markup {
  const { t, base } = ctx;
  const next = new URLSearchParams({ ...(action ? { action } : {}), ...(more ? { cursor: more } : {}) });
  return html`<h1>${t.t('auditor.trail.title')}</h1>
    <p class="lead">${t.t('auditor.trail.lead')}</p>
    <form method="get" action="${base}/audit/trail" class="filters">
      <div class="field"><label for="t-action">${t.t('auditor.trail.action')}</label>
        <select id="t-action" name="action"><option value="">${t.t('auditor.filter.any')}</option>
          ${CONSOLE_AUDIT_ACTIONS.map((known) => html`<option value="${known}" ${known === action ? html`selected=""` : ''}>${t.t(`auditor.trail.${known}`)}</option>`)}
        </select></div>
      <p><button type="submit">${t.t('auditor.filter.apply')}</button></p>
    </form>
    ${items.length === 0
      ? html`<p>${t.t('auditor.trail.empty')}</p>`
      : html`<div class="table-scroll" role="region" tabindex="0" aria-label="${t.t('auditor.trail.title')}"><table class="log">
          <caption class="visually-hidden">${t.t('auditor.trail.title')}</caption>
          <thead><tr><th scope="col">${t.t('auditor.col.time')}</th><th scope="col">${t.t('auditor.trail.action')}</th><th scope="col">${t.t('auditor.trail.who')}</th><th scope="col">${t.t('auditor.trail.target')}</th><th scope="col">${t.t('auditor.col.outcome')}</th></tr></thead>
          <tbody>${items.map(
            (item) => html`<tr>
              <td><time datetime="${item.occurredAt.toISOString()}">${t.dateTime(item.occurredAt)}</time></td>
              <td>${t.t(`auditor.trail.${item.action}`)}</td>
              <td>${item.user} · ${ctx.bureauName(item.bureau)}</td>
              <td>${item.target ? html`<code>${item.target}</code>` : ''} ${Object.entries(item.detail).map(([key, value]) => html`<span class="tag">${key}=${String(value)}</span> `)}</td>
              <td>${t.t(`auditor.trail.outcome.${item.outcome}`)}</td>
            </tr>`,
          )}</tbody>
        </table></div>`}
    ${more ? html`<p><a href="${base}/audit/trail?${next.toString()}">${t.t('list.more')}</a></p>` : ''}`;
}

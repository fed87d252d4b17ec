import { html } from 'hono/html';
import type { AuditedAccessLogItem } from '../../access-log/access-log-reader.ts';
import type { Markup } from './layout.ts';
import type { PageContext } from './page-context.ts';

/** The filter form's values as the browser sent them (empty ones left out). */
export type AuditLogQuery = Readonly<Partial<Record<'from' | 'until' | 'consumer' | 'provider' | 'outcome' | 'agreement' | 'subjectKind' | 'subject', string>>>;

const OUTCOMES = ['ALLOWED', 'PARTIAL', 'DENIED', 'FAILED'] as const;

/** The query string of the filters, for the export links and the next page. */
export function auditQueryString(query: AuditLogQuery, extra: Readonly<Record<string, string>> = {}): string {
  const params = new URLSearchParams({ ...query, ...extra } as Record<string, string>);
  const text = params.toString();
  return text ? `?${text}` : '';
}

/**
 * The access log as the viewer may see it (the reader's view rules: the
 * whole log for an auditor, the bureau's rows for a data officer), newest
 * first: a filter form (a GET, so a filtered view is a link one can share
 * with a colleague who may see it), the rows, the next page, and the exports
 * of exactly these filters.
 */
export function renderAuditLogPage(ctx: PageContext, query: AuditLogQuery, items: readonly AuditedAccessLogItem[], more: string | undefined): Markup {
  const { t, base } = ctx;
  // Rows carry receipts when the viewer answers for them (a data officer's bureau): one more column, the receipt's state.
  const receipts = items.some((item) => item.receipt !== undefined);
  const input = (name: keyof AuditLogQuery, type = 'text') =>
    html`<div class="field"><label for="f-${name}">${t.t(`auditor.filter.${name}`)}</label><input id="f-${name}" name="${name}" type="${type}" value="${query[name] ?? ''}"></div>`;
  return html`<h1>${t.t('auditor.log.title')}</h1>
    <p class="lead">${t.t('auditor.log.lead')}</p>
    <form method="get" action="${base}/audit/log" class="filters">
      ${input('from', 'date')} ${input('until', 'date')} ${input('consumer')} ${input('provider')}
      <div class="field"><label for="f-outcome">${t.t('auditor.filter.outcome')}</label>
        <select id="f-outcome" name="outcome">
          <option value="">${t.t('auditor.filter.any')}</option>
          ${OUTCOMES.map((outcome) => html`<option value="${outcome}" ${query.outcome === outcome ? html`selected=""` : ''}>${t.t(`auditor.outcome.${outcome}`)}</option>`)}
        </select></div>
      ${input('agreement')}
      <div class="field"><label for="f-subjectKind">${t.t('auditor.filter.subjectKind')}</label>
        <select id="f-subjectKind" name="subjectKind">
          ${(['person', 'enterprise'] as const).map((kind) => html`<option value="${kind}" ${query.subjectKind === kind ? html`selected=""` : ''}>${t.t(`auditor.subject.${kind}`)}</option>`)}
        </select></div>
      ${input('subject')}
      <p><button type="submit">${t.t('auditor.filter.apply')}</button></p>
    </form>
    <p class="exports">
      <a href="${base}/audit/export/csv${auditQueryString(query)}" download>${t.t('auditor.export.csv')}</a>
      <a href="${base}/audit/export/jsonl${auditQueryString(query)}" download>${t.t('auditor.export.jsonl')}</a>
    </p>
    ${items.length === 0
      ? html`<p>${t.t('auditor.log.empty')}</p>`
      : html`<div class="table-scroll" role="region" tabindex="0" aria-label="${t.t('auditor.log.title')}"><table class="log">
          <caption class="visually-hidden">${t.t('auditor.log.title')}</caption>
          <thead><tr><th scope="col">${t.t('auditor.col.time')}</th><th scope="col">${t.t('auditor.col.consumer')}</th><th scope="col">${t.t('auditor.col.providers')}</th><th scope="col">${t.t('auditor.col.outcome')}</th><th scope="col">${t.t('auditor.col.subjects')}</th><th scope="col">${t.t('auditor.col.detail')}</th>${receipts ? html`<th scope="col">${t.t('receipt.label')}</th>` : ''}</tr></thead>
          <tbody>
            ${items.map(
              (item) => html`<tr>
                <td><time datetime="${item.occurredAt.toISOString()}">${t.dateTime(item.occurredAt)}</time></td>
                <td>${ctx.bureauName(item.consumerBureau)} · <code>${item.clientApp}</code>${item.action === 'LOG_READ' ? html` <span class="tag">${t.t('auditor.action.LOG_READ')}</span>` : ''}</td>
                <td>${item.providerBureaus.map((bureau) => ctx.bureauName(bureau)).join(t.t('list.separator'))}</td>
                <td>${t.t(`auditor.outcome.${item.outcome}`)}${item.hidden ? html` <span class="tag">${t.t('auditor.hidden')}</span>` : ''}</td>
                <td>${t.number(item.subjects.length)}</td>
                <td><a href="${base}/audit/log/${item.id}">${t.t('auditor.log.open')}</a></td>
                ${receipts
                  ? html`<td>${item.receipt
                      ? html`<a href="${base}/audit/log/${item.id}/receipt" download>${t.t('receipt.short.cosigned')}</a>`
                      : t.t('receipt.short.pending')}</td>`
                  : ''}
              </tr>`,
            )}
          </tbody>
        </table></div>`}
    ${more ? html`<p><a href="${base}/audit/log${auditQueryString(query, { cursor: more })}">${t.t('list.more')}</a></p>` : ''}`;
}

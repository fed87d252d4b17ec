import { html } from 'hono/html';
import type { AuditedAccessLogItem } from '../../access-log/access-log-reader.ts';
import type { Markup } from './layout.ts';
import type { PageContext } from './page-context.ts';
import { renderReceiptNotice } from './receipt-notice.ts';

/**
 * One access log entry, all of it, as an auditor (or the bureau's data officer) sees it: who, for whom, what, why, how it ended,
 * its place in its chain, and its receipt (provably in the log, cosigned by the named witnesses; to download).
 */
export function renderAuditEntryPage(ctx: PageContext, item: AuditedAccessLogItem, witnessName: (witness: string) => string = (witness) => witness): Markup {
  const { t, base } = ctx;
  const row = (label: string, value: unknown) => html`<div><dt>${label}</dt><dd>${value}</dd></div>`;
  const codes = (values: readonly string[]) => (values.length === 0 ? t.t('auditor.none') : html`${values.map((value) => html`<code>${value}</code> `)}`);
  return html`<h1>${t.t('auditor.entry.title')}</h1>
    <dl class="terms">
      ${row(t.t('auditor.col.time'), html`<time datetime="${item.occurredAt.toISOString()}">${t.dateTime(item.occurredAt)}</time>`)}
      ${row(t.t('auditor.entry.action'), t.t(`auditor.action.${item.action}`))}
      ${row(t.t('auditor.col.outcome'), t.t(`auditor.outcome.${item.outcome}`))}
      ${row(t.t('auditor.col.consumer'), html`${ctx.bureauName(item.consumerBureau)} · <code>${item.clientApp}</code>`)}
      ${row(t.t('auditor.entry.user'), item.user ?? t.t('auditor.none'))}
      ${row(t.t('auditor.entry.roles'), item.roles.map((role) => t.t(`role.${role}`)).join(t.t('list.separator')))}
      ${row(t.t('auditor.col.providers'), item.providerBureaus.map((bureau) => ctx.bureauName(bureau)).join(t.t('list.separator')) || t.t('auditor.none'))}
      ${row(t.t('terms.purpose'), item.purpose ? html`<code>${item.purpose}</code>` : t.t('auditor.none'))}
      ${row(t.t('auditor.entry.case'), item.caseId ?? t.t('auditor.none'))}
      ${row(t.t('auditor.entry.agreements'), item.agreementIds.length === 0 ? t.t('auditor.none') : html`${item.agreementIds.map((id) => html`<a href="${base}/audit/log?agreement=${encodeURIComponent(id)}"><code>${id}</code></a> `)}`)}
      ${row(t.t('auditor.entry.legalBases'), item.agreements?.length ? html`${item.agreements.map((used) => html`<div><code>${used.id}</code> ${used.legalBasis}</div>`)}` : t.t('auditor.none'))}
      ${row(t.t('auditor.entry.fields'), codes(item.fieldsReturned.map((field) => (field.mask ? `${field.coordinate} (${field.mask})` : field.coordinate))))}
      ${row(t.t('auditor.entry.denied'), codes(item.denied.map((denial) => denial.coordinate)))}
      ${row(t.t('auditor.col.subjects'), codes(item.subjects.map((subject) => `${subject.kind}:${subject.id}`)))}
      ${row(t.t('auditor.entry.disclosure'), item.disclosure ? t.t('auditor.entry.hiddenUntil', { until: t.dateTime(item.disclosure.hiddenUntil), reason: item.disclosure.legalReason }) : t.t('auditor.none'))}
      ${row(t.t('auditor.entry.request'), html`<code>${item.requestId}</code>`)}
      ${row(t.t('auditor.entry.chain'), html`<code>${item.chainId}</code> #${item.seq}`)}
      ${row(t.t('auditor.entry.id'), html`<code>${item.id}</code>`)}
      ${item.receipt === undefined ? '' : row(t.t('receipt.label'), renderReceiptNotice(ctx, item, { download: `${base}/audit/log/${item.id}/receipt`, witnessName, detail: true }))}
    </dl>
    <p><a href="${base}/audit/log">${t.t('auditor.entry.back')}</a></p>`;
}

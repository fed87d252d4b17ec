import { html } from 'hono/html';
import { neutralizeText } from '../../../policies/display-safe-text.ts';
import type { SecurityEventReason } from '../../observability/security-event-reasons.ts';
import { SECURITY_EVENT_KINDS, type SecurityEventRecord } from '../../observability/security-event-store.ts';
import { WORDED_SECURITY_EVENT_REASONS } from '../i18n/secevents-messages.zh-cn.ts';
import type { Translator } from '../i18n/translator.ts';
import { auditQueryString } from './auditor-log-page.ts';
import type { Markup } from './layout.ts';
import type { PageContext } from './page-context.ts';

/** The filter form's values as the browser sent them (empty ones left out). */
export type SecurityEventsQuery = Readonly<Partial<Record<'kind' | 'reason' | 'from' | 'to' | 'clientAddress', string>>>;

const WORDED: ReadonlySet<string> = new Set(WORDED_SECURITY_EVENT_REASONS);

/** A reason in the reader's words; a code with no words yet (a newer gateway's, a route added since) is shown as the code, said to be unlisted. */
export function securityEventReasonWords(t: Translator, reason: string): string {
  return WORDED.has(reason) ? t.t(`secevents.reason.${reason as SecurityEventReason}`) : t.t('secevents.unlistedReason', { code: neutralizeText(reason) });
}

/** Who, as the event knows them: the verified bureau, app and user, or "unauthenticated" with what a refused token claimed. */
function who(ctx: PageContext, event: SecurityEventRecord): Markup {
  const { t } = ctx;
  if (event.bureau === undefined) {
    return html`${t.t('secevents.who.unauthenticated')}
      ${event.issuer ? html`<br><span class="code">${t.t('secevents.who.claimed', { issuer: neutralizeText(event.issuer) })}</span>` : ''}
      ${event.keyId ? html`<br><span class="code">${t.t('secevents.who.claimedKey', { keyId: neutralizeText(event.keyId) })}</span>` : ''}`;
  }
  return html`${ctx.bureauName(event.bureau)}${event.app ? html` · <code>${neutralizeText(event.app)}</code>` : ''}${event.user ? html` · ${neutralizeText(event.user)}` : ''}
    ${event.user === undefined && event.subject ? html`<br><span class="code">${t.t('secevents.who.subject', { subject: neutralizeText(event.subject) })}</span>` : ''}`;
}

/**
 * The security events, newest first, for auditors and operators: a filter
 * form (a GET, so a filtered view is a link), the rows — time in the city's
 * zone, kind and reason in words, who, from where, the request, the detail —
 * the next page, and the CSV export of exactly these filters.
 */
export function renderSecurityEventsPage(ctx: PageContext, query: SecurityEventsQuery, items: readonly SecurityEventRecord[], more: string | undefined): Markup {
  const { t, base } = ctx;
  const input = (name: 'from' | 'to' | 'clientAddress', type: string) =>
    html`<div class="field"><label for="s-${name}">${t.t(`secevents.filter.${name}`)}</label><input id="s-${name}" name="${name}" type="${type}" value="${query[name] ?? ''}"></div>`;
  const unlistedReason = query.reason !== undefined && !WORDED.has(query.reason);
  return html`<h1>${t.t('secevents.title')}</h1>
    <p class="lead">${t.t('secevents.lead')}</p>
    <form method="get" action="${base}/security-events" class="filters">
      <div class="field"><label for="s-kind">${t.t('secevents.filter.kind')}</label>
        <select id="s-kind" name="kind">
          <option value="">${t.t('auditor.filter.any')}</option>
          ${SECURITY_EVENT_KINDS.map((kind) => html`<option value="${kind}" ${query.kind === kind ? html`selected=""` : ''}>${t.t(`secevents.kind.${kind}`)}</option>`)}
        </select></div>
      <div class="field"><label for="s-reason">${t.t('secevents.filter.reason')}</label>
        <select id="s-reason" name="reason">
          <option value="">${t.t('auditor.filter.any')}</option>
          ${unlistedReason ? html`<option value="${query.reason}" selected="">${securityEventReasonWords(t, query.reason!)}</option>` : ''}
          ${WORDED_SECURITY_EVENT_REASONS.map((reason) => html`<option value="${reason}" ${query.reason === reason ? html`selected=""` : ''}>${t.t(`secevents.reason.${reason}`)}</option>`)}
        </select></div>
      ${input('from', 'datetime-local')} ${input('to', 'datetime-local')} ${input('clientAddress', 'text')}
      <p><button type="submit">${t.t('auditor.filter.apply')}</button></p>
    </form>
    <p class="exports"><a href="${base}/security-events/export.csv${auditQueryString(query)}" download>${t.t('secevents.export.csv')}</a></p>
    ${items.length === 0
      ? html`<p>${t.t('secevents.empty')}</p>`
      : html`<div class="table-scroll" role="region" tabindex="0" aria-label="${t.t('secevents.title')}"><table class="log">
          <caption class="visually-hidden">${t.t('secevents.title')}</caption>
          <thead><tr><th scope="col">${t.t('auditor.col.time')}</th><th scope="col">${t.t('secevents.col.kind')}</th><th scope="col">${t.t('auditor.col.outcome')}</th><th scope="col">${t.t('secevents.col.who')}</th><th scope="col">${t.t('secevents.col.from')}</th><th scope="col">${t.t('secevents.col.request')}</th><th scope="col">${t.t('secevents.col.detail')}</th></tr></thead>
          <tbody>
            ${items.map(
              (event) => html`<tr>
                <td><time datetime="${event.occurredAt.toISOString()}">${t.dateTime(event.occurredAt)}</time></td>
                <td>${t.t(`secevents.kind.${event.kind}`)}<br><span class="reason">${securityEventReasonWords(t, event.reason)}</span></td>
                <td>${t.t(`auditor.trail.outcome.${event.outcome}`)}${event.status === undefined ? '' : html`<br><span class="code">${t.t('secevents.status', { status: String(event.status) })}</span>`}</td>
                <td>${who(ctx, event)}</td>
                <td>${event.clientAddress === undefined || event.clientAddress === 'unknown' ? t.t('secevents.address.unknown') : html`<code>${neutralizeText(event.clientAddress)}</code>`}</td>
                <td><code>${neutralizeText(event.route)}</code>${event.requestId ? html`<br><code>${neutralizeText(event.requestId)}</code>` : ''}</td>
                <td>${Object.entries(event.detail).map(([key, value]) => html`<span class="tag">${neutralizeText(key)}=${neutralizeText(String(value))}</span> `)}</td>
              </tr>`,
            )}
          </tbody>
        </table></div>`}
    ${more ? html`<p><a href="${base}/security-events${auditQueryString(query, { cursor: more })}">${t.t('list.more')}</a></p>` : ''}`;
}

import { html } from 'hono/html';
import type { Agreement } from '../../../policies/agreement.ts';
import { MAX_TEXT_LENGTH, MIN_REASON_LENGTH } from '../../../policies/agreement-lifecycle.ts';
import type { Catalogue } from '../../../policies/catalogue.ts';
import type { StoredAgreementEvent } from '../../agreements/agreement-store.ts';
import type { QuotaUse } from '../../quotas/quota-use.ts';
import { renderFields, renderStatus, renderTerms } from './agreement-terms.ts';
import type { AgreementUseDay } from '../../access-log/agreement-use.ts';
import { renderUsageChart } from './usage-chart.ts';
import { csrfField, type Markup } from './layout.ts';
import type { PageContext } from './page-context.ts';
import { renderRefusal, type ShownRefusal } from './refusal-notice.ts';
import { renderPinnedOperations } from './pinned-operations.ts';
import type { PinnedOperation } from '../../operations/pinned-operations.ts';

/** The decisions a data officer takes on an agreement. */
export type Decision = 'approve' | 'reject' | 'revoke';
/** A decision the agreement's state allows, and whether the rules let this person take it (the lifecycle's own answer). */
export type DecisionOffer = { readonly decision: Decision; readonly refusal?: undefined } | { readonly decision: Decision; readonly refusal: ShownRefusal };

/** What the agreement page shows. */
export interface AgreementPageData {
  readonly agreement: Agreement;
  readonly events: readonly StoredAgreementEvent[];
  readonly offers: readonly DecisionOffer[];
  /** The decision just taken, after its redirect. */
  readonly done?: Decision;
  /** A decision just refused, with the reasons typed, so nothing typed is lost. */
  readonly problem?: { readonly decision: Decision; readonly refusal: ShownRefusal; readonly reason?: string };
  /** Reads per day and consumer app over the last `days` days up to `lastDay`, from the access log. */
  readonly use?: { readonly rows: readonly AgreementUseDay[]; readonly lastDay: string; readonly days: number };
  /** The quota's use in its current windows (`quotas/quota-use.ts`), shown beside each limit. */
  readonly quotaUse?: QuotaUse;
  /** The operations the agreement pins, with their documents from the registry. */
  readonly pinned?: readonly PinnedOperation[];
}

/**
 * One agreement: its status, its terms, the fields with their catalogue
 * facts, the operations it pins with their documents, the decisions open to the reader (or the rule that closes each to
 * them, in the rule's own words) and its whole history.
 */
export function renderAgreementPage(ctx: PageContext, data: AgreementPageData, now: Date, catalogue: Pick<Catalogue, 'fields'>): Markup {
  const { t } = ctx;
  const { agreement } = data;
  return html`<p class="crumbs"><a href="${ctx.base}/agreements">${t.t('nav.agreements')}</a></p>
    <h1>${t.t('agreement.title', { id: agreement.id })} ${renderStatus(ctx, agreement, now)}</h1>
    ${data.done ? html`<p class="notice done" role="status">${t.t(`agreement.done.${data.done}`)}</p>` : ''}
    ${renderTerms(ctx, agreement, now, data.quotaUse)}
    ${renderFields(ctx, agreement, catalogue)}
    ${renderPinnedOperations(ctx, data.pinned)}
    ${data.use ? renderUsageChart(ctx, data.use.rows, data.use.lastDay, data.use.days) : ''}
    ${data.offers.length > 0 ? renderDecisions(ctx, data) : ''}
    ${renderHistory(ctx, data.events)}`;
}

function renderDecisions(ctx: PageContext, data: AgreementPageData): Markup {
  const { t } = ctx;
  const { agreement, problem } = data;
  // One note per rule: approve and reject usually fail on the same one, in words that differ only by the verb.
  const refused = new Map<string, ShownRefusal>();
  for (const { refusal } of data.offers) if (refusal && !refused.has(refusal.rule ?? refusal.message)) refused.set(refusal.rule ?? refusal.message, refusal);
  return html`<section class="decisions" aria-labelledby="decisions-title">
    <h2 id="decisions-title">${t.t('agreement.decisions')}</h2>
    ${[...refused.values()].map((refusal) => renderRefusal(ctx, refusal, agreement, 'note'))}
    ${data.offers
      .filter((offer) => !offer.refusal)
      .map((offer) => renderDecisionForm(ctx, agreement, offer.decision, problem?.decision === offer.decision ? problem : undefined))}
  </section>`;
}

function renderDecisionForm(ctx: PageContext, agreement: Agreement, decision: Decision, problem: AgreementPageData['problem']): Markup {
  const { t } = ctx;
  const action = `${ctx.base}/agreements/${encodeURIComponent(agreement.id)}/${decision}`;
  const field = `reason-${decision}`;
  const hint = `${field}-hint`;
  const invalid = problem !== undefined && problem.refusal.field === 'reason';
  return html`<form method="post" action="${action}" class="decision decision-${decision}">
    ${csrfField(ctx)}<input type="hidden" name="version" value="${agreement.version}">
    ${problem ? renderRefusal(ctx, problem.refusal, agreement) : ''}
    ${decision === 'approve'
      ? html`<p class="hint">${t.t('agreement.confirm.approve')}</p>`
      : // Rejections and revocations need written reasons, which the requester will read.
        html`<label for="${field}">${t.t(`agreement.reason.${decision}`)}</label>
        <p id="${hint}" class="hint">${t.t('agreement.reasonHint', { min: MIN_REASON_LENGTH, max: MAX_TEXT_LENGTH })}</p>
        <textarea id="${field}" name="reason" rows="4" maxlength="${MAX_TEXT_LENGTH}" required aria-describedby="${hint}"${invalid ? html` aria-invalid="true"` : ''}>${problem?.reason ?? ''}</textarea>`}
    <button type="submit" class="button ${decision === 'approve' ? 'primary' : 'danger'}">${t.t(`agreement.action.${decision}`)}</button>
  </form>`;
}

function renderHistory(ctx: PageContext, events: readonly StoredAgreementEvent[]): Markup {
  const { t } = ctx;
  return html`<section aria-labelledby="history-title">
    <h2 id="history-title">${t.t('agreement.history')}</h2>
    <div class="table-scroll" role="region" tabindex="0" aria-labelledby="history-title"><table class="history">
      <thead><tr><th scope="col">${t.t('history.version')}</th><th scope="col">${t.t('history.action')}</th><th scope="col">${t.t('history.actor')}</th><th scope="col">${t.t('history.at')}</th><th scope="col">${t.t('history.reason')}</th></tr></thead>
      <tbody>
      ${events.map(
        (event) => html`<tr>
          <td>${event.version}</td>
          <th scope="row">${t.t(`action.${event.action}`)}</th>
          <td>${t.t('history.actorValue', { user: event.actor.user, bureau: ctx.bureauName(event.actor.bureau) })}</td>
          <td><time datetime="${event.at}">${t.dateTime(event.at)}</time></td>
          <td>${event.reason ?? ''}</td>
        </tr>`,
      )}
      </tbody>
    </table></div>
  </section>`;
}

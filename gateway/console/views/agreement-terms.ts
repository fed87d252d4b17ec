import { html } from 'hono/html';
import type { Agreement } from '../../../policies/agreement.ts';
import { effectiveStatus } from '../../../policies/agreement-lifecycle.ts';
import type { Catalogue } from '../../../policies/catalogue.ts';
import type { QuotaUse } from '../../quotas/quota-use.ts';
import { replyClock } from '../reply-clock.ts';
import type { Markup } from './layout.ts';
import type { PageContext } from './page-context.ts';
import { renderQuotaTerm } from './quota-terms.ts';

/** The agreement's status as a reader should act on it, as a badge. */
export function renderStatus(ctx: PageContext, agreement: Agreement, now: Date): Markup {
  const status = effectiveStatus(agreement, now);
  return html`<span class="status status-${status.toLowerCase()}">${ctx.t.t(`status.${status}`)}</span>`;
}

/**
 * The reply-by date of a pending request and the working days left; a late
 * one says so in words (never by colour alone) and carries the `late` class.
 */
export function renderReplyBy(ctx: PageContext, agreement: Agreement, now: Date): Markup {
  const { t } = ctx;
  if (agreement.status !== 'PENDING' || agreement.replyBy === undefined) return html``;
  const clock = replyClock(agreement, now, ctx.calendar);
  const standing = clock.late
    ? html`<strong class="badge late">${clock.lateDays > 0 ? t.t('reply.lateDays', { count: clock.lateDays }) : t.t('reply.late')}</strong>`
    : html`<span class="badge">${clock.left > 0 ? t.t('reply.daysLeft', { count: clock.left }) : t.t('reply.dueToday')}</span>`;
  return html`<time datetime="${agreement.replyBy}">${t.date(agreement.replyBy)}</time> ${standing}`;
}

/** The terms of a request or agreement, in the order a data officer reviews them; its quota with `quotaUse` beside it when given. */
export function renderTerms(ctx: PageContext, agreement: Agreement, now: Date, quotaUse?: QuotaUse): Markup {
  const { t } = ctx;
  const row = (label: string, value: Markup | string) => html`<div><dt>${label}</dt><dd>${value}</dd></div>`;
  return html`<dl class="terms">
    ${row(t.t('terms.consumer'), t.t('terms.consumerValue', { bureau: ctx.bureauName(agreement.consumerBureau), app: agreement.consumerApp }))}
    ${row(t.t('terms.provider'), ctx.bureauName(agreement.providerBureau))}
    ${row(t.t('terms.purpose'), html`<code>${agreement.purpose}</code>`)}
    ${row(t.t('terms.legalBasis'), agreement.legalBasis)}
    ${row(t.t('terms.rowScope'), t.t(`rowScope.${agreement.rowScope}`))}
    ${row(
      t.t('terms.validity'),
      html`<time datetime="${agreement.validFrom}">${t.dateTime(agreement.validFrom)}</time> – <time datetime="${agreement.validUntil}">${t.dateTime(agreement.validUntil)}</time>`,
    )}
    ${agreement.status === 'PENDING' && agreement.replyBy ? row(t.t('terms.replyBy'), renderReplyBy(ctx, agreement, now)) : ''}
    ${row(t.t('terms.requestedBy'), agreement.requestedBy)}
    ${agreement.approvedBy ? row(t.t('terms.approvedBy'), agreement.approvedBy) : ''}
    ${agreement.disclosureDelay ? row(t.t('terms.disclosureDelay'), t.t('terms.disclosureDelayValue', { days: agreement.disclosureDelay.days, reason: agreement.disclosureDelay.legalReason })) : ''}
    ${agreement.quota ? row(t.t('terms.quota'), renderQuotaTerm(ctx, agreement.quota, quotaUse)) : ''}
    ${agreement.caseId ? row(t.t('terms.caseId'), agreement.caseId.format === undefined ? t.t('terms.caseIdAny') : html`${t.t('terms.caseIdFormat')} <code>${agreement.caseId.format}</code>`) : ''}
    ${agreement.rejectionReason ? row(t.t('terms.rejectionReason'), agreement.rejectionReason) : ''}
    ${agreement.revocationReason ? row(t.t('terms.revocationReason'), agreement.revocationReason) : ''}
  </dl>`;
}

/**
 * The fields asked for, each with what the catalogue says of it today
 * (sharing category, sensitivity, the bureau's default mask) and the mask
 * the request asks for.
 */
export function renderFields(ctx: PageContext, agreement: Agreement, catalogue: Pick<Catalogue, 'fields'>): Markup {
  const { t } = ctx;
  const caption = t.t('fields.caption', { count: agreement.fields.length });
  // On a phone the table is wider than the screen: it scrolls in its own box, which the keyboard can focus and scroll too.
  return html`<div class="table-scroll" role="region" tabindex="0" aria-label="${caption}"><table class="fields">
    <caption>${caption}</caption>
    <thead><tr><th scope="col">${t.t('fields.field')}</th><th scope="col">${t.t('fields.category')}</th><th scope="col">${t.t('fields.sensitivity')}</th><th scope="col">${t.t('fields.defaultMask')}</th><th scope="col">${t.t('fields.askedMask')}</th></tr></thead>
    <tbody>
    ${agreement.fields.map((coordinate) => {
      const field = catalogue.fields.get(coordinate);
      const asked = agreement.masks[coordinate];
      return html`<tr>
        <th scope="row"><code>${coordinate}</code>${field?.description ? html`<span class="description">${field.description}</span>` : ''}</th>
        <td>${field ? html`<span class="category category-${field.category.toLowerCase()}">${t.t(`category.${field.category}`)}</span>` : t.t('fields.notInCatalogue')}</td>
        <td>${field ? html`<span class="sensitivity sensitivity-${field.sensitivity.toLowerCase()}">${t.t(`sensitivity.${field.sensitivity}`)}</span>` : ''}</td>
        <td>${field?.mask ? t.t(`mask.${field.mask}`) : t.t('mask.none')}</td>
        <td>${asked ? t.t(`mask.${asked}`) : t.t('mask.none')}</td>
      </tr>`;
    })}
    </tbody>
  </table></div>`;
}

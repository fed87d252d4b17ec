import { html } from 'hono/html';
import type { Agreement } from '../../../policies/agreement.ts';
import type { Markup } from './layout.ts';
import type { PageContext } from './page-context.ts';
import { renderStatus } from './agreement-terms.ts';

/** Which of the bureau's agreements a listing shows: those it provides data under, or those it reads under. */
export type AgreementSide = 'provided' | 'consumed';
/** The listing's tabs: stored statuses, plus `expiring` (in force, ending within the warning window). */
export type AgreementTab = 'active' | 'expiring' | 'pending' | 'expired' | 'revoked' | 'rejected' | 'draft';
/** Every tab, in the order shown. */
export const AGREEMENT_TABS: readonly AgreementTab[] = ['active', 'expiring', 'pending', 'expired', 'revoked', 'rejected', 'draft'];
/** Both sides, in the order shown. */
export const AGREEMENT_SIDES: readonly AgreementSide[] = ['provided', 'consumed'];

/** What one listing shows. */
export interface AgreementListing {
  readonly side: AgreementSide;
  readonly tab: AgreementTab;
  readonly agreements: readonly Agreement[];
  /** The cursor of the next page, if any. */
  readonly more?: string;
}

/** The bureau's agreements by side and status, each row linking to the agreement with its history. */
export function renderAgreementsPage(ctx: PageContext, listing: AgreementListing, now: Date): Markup {
  const { t, base } = ctx;
  const href = (side: AgreementSide, tab: AgreementTab) => `${base}/agreements?side=${side}&tab=${tab}`;
  const current = (yes: boolean) => (yes ? html` aria-current="page"` : '');
  return html`<h1>${t.t('agreements.title')}</h1>
    <nav class="tabs" aria-label="${t.t('agreements.sides')}">
      <ul>${AGREEMENT_SIDES.map((side) => html`<li><a href="${href(side, listing.tab)}"${current(side === listing.side)}>${t.t(`agreements.side.${side}`)}</a></li>`)}</ul>
    </nav>
    <nav class="tabs" aria-label="${t.t('agreements.statuses')}">
      <ul>${AGREEMENT_TABS.map((tab) => html`<li><a href="${href(listing.side, tab)}"${current(tab === listing.tab)}>${t.t(`agreements.tab.${tab}`)}</a></li>`)}</ul>
    </nav>
    ${listing.agreements.length === 0
      ? html`<p>${t.t('agreements.empty')}</p>`
      : html`<div class="table-scroll" role="region" tabindex="0" aria-label="${t.t('agreements.title')}"><table class="agreements">
          <caption>${t.t('agreements.caption', { side: t.t(`agreements.side.${listing.side}`), tab: t.t(`agreements.tab.${listing.tab}`) })}</caption>
          <thead><tr>
            <th scope="col">${t.t('terms.agreementId')}</th>
            <th scope="col">${listing.side === 'provided' ? t.t('terms.consumer') : t.t('terms.provider')}</th>
            <th scope="col">${t.t('terms.purpose')}</th>
            <th scope="col">${t.t('agreements.status')}</th>
            <th scope="col">${t.t('agreements.validUntil')}</th>
          </tr></thead>
          <tbody>
          ${listing.agreements.map(
            (agreement) => html`<tr>
              <th scope="row"><a href="${base}/agreements/${encodeURIComponent(agreement.id)}">${agreement.id}</a></th>
              <td>${listing.side === 'provided'
                ? t.t('terms.consumerValue', { bureau: ctx.bureauName(agreement.consumerBureau), app: agreement.consumerApp })
                : ctx.bureauName(agreement.providerBureau)}</td>
              <td><code>${agreement.purpose}</code></td>
              <td>${renderStatus(ctx, agreement, now)}</td>
              <td><time datetime="${agreement.validUntil}">${t.date(agreement.validUntil)}</time></td>
            </tr>`,
          )}
          </tbody>
        </table></div>`}
    ${listing.more ? html`<p><a href="${href(listing.side, listing.tab)}&cursor=${encodeURIComponent(listing.more)}">${t.t('list.more')}</a></p>` : ''}`;
}

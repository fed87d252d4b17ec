import { html } from 'hono/html';
import type { Agreement } from '../../../policies/agreement.ts';
import { renderReplyBy, renderStatus } from './agreement-terms.ts';
import { csrfField, type Markup } from './layout.ts';
import type { PageContext } from './page-context.ts';
import { renderRefusal, type ShownRefusal } from './refusal-notice.ts';

/** What the requesting bureau's list shows. */
export interface RequestsListing {
  readonly requests: readonly Agreement[];
  /** The cursor of the next page, if any. */
  readonly more?: string;
  /** A step just done, after its redirect. */
  readonly done?: 'saved' | 'filed' | 'submitted';
  /** A submission just refused, with the draft it was for. */
  readonly problem?: { readonly agreement: Agreement; readonly refusal: ShownRefusal };
}

/**
 * The requests of the reader's bureau, newest first: status, reply-by date
 * while pending, the provider's reasons once rejected or revoked, and for
 * each draft (filed here or by explain) a button to submit it.
 */
export function renderRequestsPage(ctx: PageContext, listing: RequestsListing, now: Date): Markup {
  const { t, base } = ctx;
  const bureau = ctx.bureauName(ctx.session!.principal.bureau);
  return html`<h1>${t.t('requester.title')}</h1>
    <p class="lead">${t.t('requester.lead', { bureau })}</p>
    ${listing.done ? html`<p class="notice done" role="status">${t.t(`requester.${listing.done}`)}</p>` : ''}
    ${listing.problem ? renderRefusal(ctx, listing.problem.refusal, listing.problem.agreement) : ''}
    <p><a class="button primary" href="${base}/requests/new">${t.t('requester.new')}</a></p>
    <p class="hint">${t.t('requester.draftsFromExplain')}</p>
    ${listing.requests.length === 0
      ? html`<p>${t.t('requester.empty')}</p>`
      : html`<div class="table-scroll" role="region" tabindex="0" aria-label="${t.t('requester.title')}"><table class="agreements requests-table">
          <caption>${t.t('requester.caption', { count: listing.requests.length })}</caption>
          <thead><tr>
            <th scope="col">${t.t('terms.agreementId')}</th>
            <th scope="col">${t.t('terms.provider')}</th>
            <th scope="col">${t.t('terms.purpose')}</th>
            <th scope="col">${t.t('agreements.status')}</th>
            <th scope="col">${t.t('requester.reason')}</th>
          </tr></thead>
          <tbody>
          ${listing.requests.map(
            (request) => html`<tr>
              <th scope="row"><a href="${base}/agreements/${encodeURIComponent(request.id)}">${request.id}</a><span class="description">${t.t('terms.consumerValue', { bureau, app: request.consumerApp })}</span></th>
              <td>${ctx.bureauName(request.providerBureau)}</td>
              <td><code>${request.purpose}</code></td>
              <td>${renderStatus(ctx, request, now)}${request.status === 'PENDING' ? html`<br>${renderReplyBy(ctx, request, now)}` : ''}</td>
              <td>${request.status === 'DRAFT' ? renderSubmit(ctx, request) : (request.rejectionReason ?? request.revocationReason ?? '')}</td>
            </tr>`,
          )}
          </tbody>
        </table></div>`}
    ${listing.more ? html`<p><a href="${base}/requests?cursor=${encodeURIComponent(listing.more)}">${t.t('list.more')}</a></p>` : ''}`;
}

function renderSubmit(ctx: PageContext, draft: Agreement): Markup {
  return html`<form method="post" action="${ctx.base}/requests/${encodeURIComponent(draft.id)}/submit" class="inline">
    ${csrfField(ctx)}<input type="hidden" name="version" value="${draft.version}">
    <button type="submit" class="button" aria-label="${ctx.t.t('requester.submit')} ${draft.id}">${ctx.t.t('requester.submit')}</button>
  </form>`;
}

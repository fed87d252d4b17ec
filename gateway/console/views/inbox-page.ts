import { html } from 'hono/html';
import type { Agreement } from '../../../policies/agreement.ts';
import { isOverdue } from '../../../policies/agreement-lifecycle.ts';
import type { Catalogue } from '../../../policies/catalogue.ts';
import { renderFields, renderReplyBy } from './agreement-terms.ts';
import type { Markup } from './layout.ts';
import type { PageContext } from './page-context.ts';

/**
 * The data officer's inbox: every pending request addressed to the bureau,
 * late ones first, each with what a decision needs (who asks, for which app,
 * the fields with their category, sensitivity and masks, purpose, legal
 * basis, row scope, window, and the time left to answer).
 */
export function renderInboxPage(ctx: PageContext, requests: readonly Agreement[], now: Date, catalogue: Pick<Catalogue, 'fields'>, more: string | undefined): Markup {
  const { t, base } = ctx;
  const late = requests.filter((request) => isOverdue(request, now)).length;
  const bureau = ctx.bureauName(ctx.session!.principal.bureau);
  return html`<h1>${t.t('inbox.title')}</h1>
    <p class="lead">${t.t('inbox.summary', { bureau, count: requests.length, late })}</p>
    ${requests.length === 0
      ? html`<p>${t.t('inbox.empty')}</p>`
      : html`<ol class="requests">
          ${requests.map((request) => {
            const overdue = isOverdue(request, now);
            const heading = `request-${request.id}`;
            return html`<li class="request${overdue ? ' late' : ''}">
              <article aria-labelledby="${heading}">
                <header>
                  <h2 id="${heading}"><a href="${base}/agreements/${encodeURIComponent(request.id)}">${t.t('inbox.requestFrom', { bureau: ctx.bureauName(request.consumerBureau), app: request.consumerApp })}</a></h2>
                  <p class="reply">${t.t('inbox.replyBy')} ${renderReplyBy(ctx, request, now)}</p>
                </header>
                <dl class="terms compact">
                  <div><dt>${t.t('terms.purpose')}</dt><dd><code>${request.purpose}</code></dd></div>
                  <div><dt>${t.t('terms.legalBasis')}</dt><dd>${request.legalBasis}</dd></div>
                  <div><dt>${t.t('terms.rowScope')}</dt><dd>${t.t(`rowScope.${request.rowScope}`)}</dd></div>
                  <div><dt>${t.t('terms.validity')}</dt><dd><time datetime="${request.validFrom}">${t.date(request.validFrom)}</time> – <time datetime="${request.validUntil}">${t.date(request.validUntil)}</time></dd></div>
                  <div><dt>${t.t('terms.agreementId')}</dt><dd><code>${request.id}</code></dd></div>
                </dl>
                ${renderFields(ctx, request, catalogue)}
                <p><a class="button" href="${base}/agreements/${encodeURIComponent(request.id)}" aria-describedby="${heading}">${t.t('inbox.review')}</a></p>
              </article>
            </li>`;
          })}
        </ol>`}
    ${more ? html`<p><a href="${base}/inbox?cursor=${encodeURIComponent(more)}">${t.t('list.more')}</a></p>` : ''}`;
}

import { html } from 'hono/html';
import type { Catalogue } from '../../../policies/catalogue.ts';
import type { CitizenAccessLogItem } from '../../access-log/access-log-reader.ts';
import type { Markup } from './layout.ts';
import type { PageContext } from './page-context.ts';
import { renderReceiptNotice } from './receipt-notice.ts';

/** One read shown to a citizen, with what its agreements say. */
export interface CitizenRead {
  readonly item: CitizenAccessLogItem;
  readonly agreements: readonly { readonly id: string; readonly legalBasis?: string }[];
}

/**
 * A field as a person names it. In Chinese, the catalogue's own description
 * up to its first note (`出生日期 (YYYY-MM-DD)` → `出生日期`): the bureau's
 * words for its data. In English, or where the catalogue has no
 * description, the field's name spelled out (`birthDate` → `birth date`).
 */
export function plainFieldName(catalogue: Pick<Catalogue, 'fields'>, coordinate: string, locale: string): string {
  const description = catalogue.fields.get(coordinate)?.description;
  if (locale === 'zh-CN' && description) {
    const name = description.split(/[\s(（:：,，]/, 1)[0]!;
    if (name) return name;
  }
  const field = coordinate.split('.').at(-1) ?? coordinate;
  return field.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

/**
 * "Who read my data": one card per read, newest first, in plain words — the
 * bureau and its service, when, which of the citizen's data, for what
 * purpose, under which agreement and legal basis. Cards, not a table, so a
 * phone's width holds them without sideways scrolling. Each card ends with
 * its receipt: provably in the city's log and cosigned by the named witness,
 * to download (or when to look again).
 */
export function renderCitizenReadsPage(
  ctx: PageContext,
  reads: readonly CitizenRead[],
  catalogue: Pick<Catalogue, 'fields'>,
  more: string | undefined,
  witnessName: (witness: string) => string = (witness) => witness,
): Markup {
  const { t, base } = ctx;
  return html`<h1>${t.t('citizen.title')}</h1>
    <p class="lead">${t.t('citizen.lead')}</p>
    ${reads.length === 0
      ? html`<p>${t.t('citizen.empty')}</p>`
      : html`<ol class="reads">
          ${reads.map(({ item, agreements }) => {
            const fields = [...new Set(item.fields.map((field) => plainFieldName(catalogue, field.coordinate, t.locale)))];
            return html`<li class="read card-plain">
              <h2>${t.t('citizen.who', { bureau: ctx.bureauName(item.consumerBureau) })}</h2>
              <p class="when"><time datetime="${item.occurredAt.toISOString()}">${t.dateTime(item.occurredAt)}</time></p>
              <dl class="terms compact">
                <div><dt>${t.t('citizen.from')}</dt><dd>${item.providerBureaus.map((bureau) => ctx.bureauName(bureau)).join(t.t('list.separator'))}</dd></div>
                <div><dt>${t.t('citizen.fields')}</dt><dd>${fields.length > 0 ? fields.join(t.t('list.separator')) : t.t('citizen.noFields')}</dd></div>
                <div><dt>${t.t('citizen.purpose')}</dt><dd>${item.purpose ? ctx.purposeName(item.purpose) : t.t('citizen.notStated')}</dd></div>
                <div><dt>${t.t('citizen.basis')}</dt><dd>${agreements.length === 0
                  ? t.t('citizen.notStated')
                  : agreements.map((agreement) => html`<span class="basis">${agreement.legalBasis ?? t.t('citizen.notStated')} <small>${t.t('citizen.agreement', { id: agreement.id })}</small></span>`)}</dd></div>
                <div><dt>${t.t('citizen.outcome')}</dt><dd>${t.t(`citizen.outcome.${item.outcome}`)}</dd></div>
              </dl>
              ${renderReceiptNotice(ctx, item, { download: `${base}/citizen/reads/${item.id}/receipt`, witnessName })}
            </li>`;
          })}
        </ol>`}
    ${more ? html`<p><a href="${base}/citizen/reads?cursor=${encodeURIComponent(more)}">${t.t('list.more')}</a></p>` : ''}`;
}

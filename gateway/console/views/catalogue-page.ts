import { html } from 'hono/html';
import type { Agreement } from '../../../policies/agreement.ts';
import type { Catalogue, CatalogueField } from '../../../policies/catalogue.ts';
import type { Markup } from './layout.ts';
import type { PageContext } from './page-context.ts';

/**
 * The reader's bureau's catalogue: each type it provides, each field with
 * its sharing category, sensitivity and default mask, and the agreements in
 * force that share it now (each a link to the agreement).
 */
export function renderCataloguePage(ctx: PageContext, catalogue: Pick<Catalogue, 'fields'>, inForce: readonly Agreement[]): Markup {
  const { t, base } = ctx;
  const bureau = ctx.session!.principal.bureau;
  const types = new Map<string, CatalogueField[]>();
  for (const field of catalogue.fields.values()) if (field.bureau === bureau) types.set(field.typeName, [...(types.get(field.typeName) ?? []), field]);
  const sharing = (coordinate: string) => inForce.filter((agreement) => agreement.fields.includes(coordinate));
  return html`<h1>${t.t('catalogue.title', { bureau: ctx.bureauName(bureau) })}</h1>
    <p class="lead">${t.t('catalogue.lead')}</p>
    ${types.size === 0
      ? html`<p>${t.t('catalogue.none')}</p>`
      : [...types].map(
          ([type, fields]) => html`<section aria-labelledby="type-${type}">
            <h2 id="type-${type}">${t.t('catalogue.type', { type })}</h2>
            <div class="table-scroll" role="region" tabindex="0" aria-labelledby="type-${type}"><table class="fields catalogue">
              <thead><tr><th scope="col">${t.t('fields.field')}</th><th scope="col">${t.t('fields.category')}</th><th scope="col">${t.t('fields.sensitivity')}</th><th scope="col">${t.t('fields.defaultMask')}</th><th scope="col">${t.t('catalogue.sharedBy')}</th></tr></thead>
              <tbody>
              ${fields.map((field) => {
                const shared = sharing(field.coordinate);
                return html`<tr>
                  <th scope="row"><code>${field.coordinate}</code>${field.description ? html`<span class="description">${field.description}</span>` : ''}</th>
                  <td><span class="category category-${field.category.toLowerCase()}">${t.t(`category.${field.category}`)}</span></td>
                  <td><span class="sensitivity sensitivity-${field.sensitivity.toLowerCase()}">${t.t(`sensitivity.${field.sensitivity}`)}</span></td>
                  <td>${field.mask ? t.t(`mask.${field.mask}`) : t.t('mask.none')}</td>
                  <td>${shared.length === 0
                    ? t.t('catalogue.notShared')
                    : html`<ul class="plain">${shared.map(
                        (agreement) => html`<li><a href="${base}/agreements/${encodeURIComponent(agreement.id)}">${t.t('catalogue.agreementValue', { agreement: agreement.id, bureau: ctx.bureauName(agreement.consumerBureau), app: agreement.consumerApp })}</a></li>`,
                      )}</ul>`}</td>
                </tr>`;
              })}
              </tbody>
            </table></div>
          </section>`,
        )}`;
}

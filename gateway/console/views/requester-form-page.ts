import { html } from 'hono/html';
import type { Agreement } from '../../../policies/agreement.ts';
import { MIN_REASON_LENGTH } from '../../../policies/agreement-lifecycle.ts';
import { MASK_KINDS, type Catalogue, type CatalogueField, type MaskKind } from '../../../policies/catalogue.ts';
import { csrfField, type Markup } from './layout.ts';
import type { PageContext } from './page-context.ts';
import { renderQuotaFields, type QuotaFormValues } from './quota-terms.ts';
import { renderRefusal, type ShownRefusal } from './refusal-notice.ts';
import { renderPinChoices } from './pinned-operations.ts';
import type { RegisteredOperation } from '../../operations/pinned-operations.ts';

/** What the person typed (or the defaults of a new form); the quota boxes as typed. */
export interface RequestFormValues extends QuotaFormValues {
  readonly consumerApp: string;
  readonly fields: readonly string[];
  readonly masks: Readonly<Record<string, MaskKind>>;
  readonly purpose: string;
  readonly legalBasis: string;
  readonly rowScope: string;
  /** `YYYY-MM-DD` */
  readonly validFrom: string;
  readonly validUntil: string;
  /** The `caseId` term: reads must name a case id, of `caseIdFormat` when it is not empty. */
  readonly caseIdRequired?: boolean;
  readonly caseIdFormat?: string;
  /** The `operations` term: the hashes of the registered documents ticked. */
  readonly operations?: readonly string[];
}

/**
 * The form to file a request: the catalogue's fields as checkboxes grouped
 * by provider bureau and type, each with its category and sensitivity and a
 * mask to ask for; `NONE` fields are listed but cannot be ticked, with the
 * reason. A refusal of the lifecycle is shown above the form, which keeps
 * everything typed.
 */
export function renderRequestFormPage(
  ctx: PageContext,
  catalogue: Pick<Catalogue, 'fields' | 'bureaus'>,
  values: RequestFormValues,
  problem: { readonly refusal: ShownRefusal; readonly agreement: Agreement } | undefined,
  /** The registered documents of the bureau's apps, to pin (`pinned-operations.ts`); none: the choice says so. */
  registered: readonly RegisteredOperation[] = [],
): Markup {
  const { t, base } = ctx;
  const own = ctx.session!.principal.bureau;
  const groups = new Map<string, CatalogueField[]>();
  for (const field of catalogue.fields.values()) {
    if (field.bureau === own) continue;
    const key = `${field.bureau}\u0000${field.typeName}`;
    groups.set(key, [...(groups.get(key) ?? []), field]);
  }
  const invalid = (name: string) => (problem?.refusal.field === name || problem?.refusal.field?.startsWith(`${name}[`) ? html` aria-invalid="true"` : '');
  return html`<p class="crumbs"><a href="${base}/requests">${t.t('nav.requests')}</a></p>
    <h1>${t.t('requester.form.title')}</h1>
    <p class="lead">${t.t('requester.form.intro')}</p>
    ${problem ? html`<p class="notice">${t.t('requester.form.refused')}</p>${renderRefusal(ctx, problem.refusal, problem.agreement)}` : ''}
    <form method="post" action="${base}/requests" class="request-form">
      ${csrfField(ctx)}
      <label for="consumerApp">${t.t('requester.form.app')}</label>
      <p id="consumerApp-hint" class="hint">${t.t('requester.form.appHint')}</p>
      <input id="consumerApp" name="consumerApp" value="${values.consumerApp}" required maxlength="64" aria-describedby="consumerApp-hint"${invalid('consumerApp')}>
      <fieldset class="catalogue-fields"${invalid('fields')}>
        <legend>${t.t('requester.form.fields')}</legend>
        ${[...groups.values()].map(
          (fields) => html`<fieldset class="field-group">
            <legend>${t.t('requester.form.fieldsOf', { bureau: ctx.bureauName(fields[0]!.bureau), type: fields[0]!.typeName })}</legend>
            <ul class="field-choices">
            ${fields.map((field) => renderChoice(ctx, field, values))}
            </ul>
          </fieldset>`,
        )}
      </fieldset>
      <label for="purpose">${t.t('requester.form.purpose')}</label>
      <input id="purpose" name="purpose" value="${values.purpose}" required maxlength="80"${invalid('purpose')}>
      <label for="legalBasis">${t.t('requester.form.legalBasis')}</label>
      <p id="legalBasis-hint" class="hint">${t.t('requester.form.legalBasisHint', { min: MIN_REASON_LENGTH })}</p>
      <textarea id="legalBasis" name="legalBasis" rows="3" required maxlength="2000" aria-describedby="legalBasis-hint"${invalid('legalBasis')}>${values.legalBasis}</textarea>
      <label class="choice"><input type="checkbox" id="caseIdRequired" name="caseIdRequired"${values.caseIdRequired ? ' checked' : ''}> ${t.t('requester.form.caseIdRequired')}</label>
      <label for="caseIdFormat">${t.t('requester.form.caseIdFormat')}</label>
      <p id="caseIdFormat-hint" class="hint">${t.t('requester.form.caseIdFormatHint')}</p>
      <input id="caseIdFormat" name="caseIdFormat" value="${values.caseIdFormat ?? ''}" maxlength="128" aria-describedby="caseIdFormat-hint"${invalid('caseId.format')}>
      ${renderQuotaFields(ctx, values, problem?.refusal)}
      ${renderPinChoices(ctx, registered, values.operations ?? [], invalid('operations') !== '')}
      <fieldset${invalid('rowScope')}>
        <legend>${t.t('requester.form.rowScope')}</legend>
        ${(['ANY', 'SELF'] as const).map(
          (scope) => html`<label class="choice"><input type="radio" name="rowScope" value="${scope}"${values.rowScope === scope ? ' checked' : ''}> ${t.t(`rowScope.${scope}`)}</label>`,
        )}
      </fieldset>
      <div class="window">
        <div><label for="validFrom">${t.t('requester.form.validFrom')}</label><input id="validFrom" name="validFrom" type="date" value="${values.validFrom}" required${invalid('validFrom')}></div>
        <div><label for="validUntil">${t.t('requester.form.validUntil')}</label><input id="validUntil" name="validUntil" type="date" value="${values.validUntil}" required${invalid('validUntil')}></div>
      </div>
      <p class="actions">
        <button type="submit" name="action" value="submit" class="button primary">${t.t('requester.form.submit')}</button>
        <button type="submit" name="action" value="draft" class="button">${t.t('requester.form.saveDraft')}</button>
      </p>
    </form>`;
}

function renderChoice(ctx: PageContext, field: CatalogueField, values: RequestFormValues): Markup {
  const { t } = ctx;
  const id = `field-${field.coordinate.replace('.', '-')}`;
  const facts = html`<span class="category category-${field.category.toLowerCase()}">${t.t(`category.${field.category}`)}</span>
    <span class="sensitivity sensitivity-${field.sensitivity.toLowerCase()}">${t.t(`sensitivity.${field.sensitivity}`)}</span>`;
  if (field.category === 'NONE') {
    // Shown so the developer knows it exists and why it cannot be had; no control to tick.
    return html`<li class="choice none"><span><code>${field.coordinate}</code> ${facts}</span><span class="hint">${t.t('requester.form.noneReason')}</span></li>`;
  }
  const chosen = values.fields.includes(field.coordinate);
  const mask = values.masks[field.coordinate];
  return html`<li class="choice">
    <input type="checkbox" id="${id}" name="field:${field.coordinate}" value="on"${chosen ? ' checked' : ''}>
    <label for="${id}"><code>${field.coordinate}</code>${field.description ? html` <span class="description">${field.description}</span>` : ''}</label> ${facts}
    <label for="${id}-mask" class="visually-hidden">${t.t('requester.form.mask', { field: field.coordinate })}</label>
    <select id="${id}-mask" name="mask:${field.coordinate}">
      <option value=""${mask ? '' : ' selected'}>${field.mask ? `${t.t('fields.defaultMask')}: ${t.t(`mask.${field.mask}`)}` : t.t('mask.none')}</option>
      ${MASK_KINDS.map((kind) => html`<option value="${kind}"${mask === kind ? ' selected' : ''}>${t.t(`mask.${kind}`)}</option>`)}
    </select>
  </li>`;
}

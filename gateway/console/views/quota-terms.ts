import { html } from 'hono/html';
import { MAX_QUOTA } from '../../../policies/agreement-quota.ts';
import type { AgreementQuota } from '../../../policies/agreement.ts';
import type { QuotaUse } from '../../quotas/quota-use.ts';
import type { Markup } from './layout.ts';
import type { PageContext } from './page-context.ts';
import type { ShownRefusal } from './refusal-notice.ts';

/**
 * An agreement's quota as the terms show it, each limit with its use in the
 * current window beside it when `use` is given (the same figures as the
 * admin API's `quotaUse`, read from the replicas' shared counters):
 * `每分钟 5 次请求（本分钟已用 3/5）；每日 100 条记录（北京时间）（今日已用 6/100）`.
 */
export function renderQuotaTerm(ctx: PageContext, quota: AgreementQuota, use: QuotaUse | undefined): string {
  const { t } = ctx;
  const parts: string[] = [];
  if (quota.requestsPerMinute !== undefined) {
    const used = use?.requestsPerMinute;
    parts.push(`${t.t('terms.quotaPerMinute', { limit: quota.requestsPerMinute })}${used ? ` · ${t.t('quota.usedThisMinute', { used: used.used, limit: used.limit })}` : ''}`);
  }
  if (quota.recordsPerDay !== undefined) {
    const used = use?.recordsPerDay;
    parts.push(`${t.t('terms.quotaPerDay', { limit: quota.recordsPerDay })}${used ? ` · ${t.t('quota.usedToday', { used: used.used, limit: used.limit })}` : ''}`);
  }
  return parts.join('; ');
}

/** What the request form's quota boxes hold, as typed (empty: no limit of that kind). */
export interface QuotaFormValues {
  readonly quotaPerMinute?: string;
  readonly quotaPerDay?: string;
}

/** The form's box of each kind, and the term (`quota.<kind>`) the lifecycle names when it refuses one. */
const BOXES = [
  { name: 'quotaPerMinute', term: 'quota.requestsPerMinute', label: 'quota.form.perMinute', max: MAX_QUOTA.requestsPerMinute },
  { name: 'quotaPerDay', term: 'quota.recordsPerDay', label: 'quota.form.perDay', max: MAX_QUOTA.recordsPerDay },
] as const;

/**
 * The request form's optional quota: requests a minute and records a day.
 * The numbers go to the lifecycle as typed, whose terms refuse zero,
 * negative and fractional ones; the refused box is marked invalid and says
 * why beside it, in the reader's language.
 */
export function renderQuotaFields(ctx: PageContext, values: QuotaFormValues, refusal: ShownRefusal | undefined): Markup {
  const { t } = ctx;
  return html`<fieldset class="quota"${refusal?.field === 'quota' ? html` aria-invalid="true"` : ''} aria-describedby="quota-hint">
    <legend>${t.t('quota.form.legend')}</legend>
    <p id="quota-hint" class="hint">${t.t('quota.form.hint')}</p>
    ${BOXES.map((box) => {
      const refused = refusal?.field === box.term;
      const error = `${box.name}-error`;
      return html`<label for="${box.name}">${t.t(box.label)}</label>
      <input id="${box.name}" name="${box.name}" type="number" inputmode="numeric" min="1" max="${box.max}" step="1" value="${values[box.name] ?? ''}"${refused ? html` aria-invalid="true" aria-describedby="${error}"` : ''}>
      ${refused ? html`<p id="${error}" class="field-error">${t.t('quota.form.invalid', { max: box.max })}</p>` : ''}`;
    })}
  </fieldset>`;
}

import { html } from 'hono/html';
import type { Agreement } from '../../../policies/agreement.ts';
import { MAX_TEXT_LENGTH, MIN_REASON_LENGTH, type LifecycleRefusal } from '../../../policies/agreement-lifecycle.ts';
import type { MessageKey, MessageParams } from '../i18n/translator.ts';
import type { Markup } from './layout.ts';
import type { PageContext } from './page-context.ts';

/** A refusal as the console shows it: the lifecycle's own refusal, or the store's conflict in the same shape. */
export type ShownRefusal = Pick<LifecycleRefusal, 'code' | 'message' | 'rule' | 'field'>;

/**
 * The message of a refusal in the reader's language, chosen by the rule's
 * code, rule and field (never by parsing its words): the console says in
 * Chinese what the rule said, and shows the rule's own words beside it.
 */
export function refusalMessage(refusal: ShownRefusal, agreement: Agreement, bureauName: (bureau: string) => string): { key: MessageKey; params: MessageParams } {
  const bureaus = { provider: bureauName(agreement.providerBureau), consumer: bureauName(agreement.consumerBureau) };
  if (refusal.code === 'FORBIDDEN') return { key: refusal.rule ? `refusal.${refusal.rule}` : 'refusal.forbidden', params: bureaus };
  if (refusal.code === 'CONFLICT') return { key: 'refusal.conflict', params: bureaus };
  if (refusal.field === 'reason') return { key: 'refusal.reason', params: { min: MIN_REASON_LENGTH, max: MAX_TEXT_LENGTH } };
  return { key: 'refusal.terms', params: { field: refusal.field ?? '' } };
}

/** A refusal on the agreement's page: announced to screen readers, with its code and the rule's own words. */
export function renderRefusal(ctx: PageContext, refusal: ShownRefusal, agreement: Agreement, role: 'alert' | 'note' = 'alert'): Markup {
  const { t } = ctx;
  const { key, params } = refusalMessage(refusal, agreement, ctx.bureauName);
  return html`<div class="notice refusal" role="${role === 'alert' ? 'alert' : 'note'}">
    <p>${t.t(key, params)}</p>
    <p class="rule-words">${t.t('refusal.ruleSays')} <q lang="en">${refusal.message}</q></p>
    <p class="code">${t.t('error.codeLabel', { code: refusal.rule ? `${refusal.code} · ${refusal.rule}` : refusal.code })}</p>
  </div>`;
}

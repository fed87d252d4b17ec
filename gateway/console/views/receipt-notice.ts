import { html } from 'hono/html';
import type { ReceiptFields } from '../../access-log/access-log-reader.ts';
import type { Markup } from './layout.ts';
import type { PageContext } from './page-context.ts';

/**
 * What an entry's receipt proves, in plain words: the record is provably in
 * the city's log and the named witnesses cosigned the checkpoint that covers
 * it, with a link to download the receipt as JSON (a plain link: the console
 * runs no script). While no cosigned checkpoint covers it: when to look
 * again. Nothing when the read brought no receipts. `detail` adds the
 * entry's place in the tree and how anyone can check the receipt.
 */
export function renderReceiptNotice(
  ctx: PageContext,
  item: ReceiptFields,
  options: { readonly download: string; readonly witnessName: (witness: string) => string; readonly detail?: boolean },
): Markup | '' {
  const { t } = ctx;
  const { receipt } = item;
  if (receipt === undefined) return '';
  if (receipt === null && item.receiptUnavailable === 'LEGACY_CHAIN') return html`<p class="receipt pending">${t.t('receipt.legacy')}</p>`;
  if (receipt === null) {
    return html`<p class="receipt pending">${t.t('receipt.pending', { time: item.receiptCheckAfter ? t.dateTime(item.receiptCheckAfter) : '' })}</p>`;
  }
  const words = receipt.witnesses.length === 0
    ? t.t('receipt.logOnly')
    : t.t('receipt.cosigned', { witnesses: receipt.witnesses.map(options.witnessName).join(t.t('list.separator')) });
  return html`<div class="receipt cosigned">
    <p>${words}</p>
    ${options.detail ? html`<p class="place">${t.t('receipt.place', { leaf: receipt.leafIndex + 1, size: receipt.treeSize, origin: receipt.origin })}</p>` : ''}
    <p><a href="${options.download}" download>${t.t('receipt.download')}</a></p>
    ${options.detail ? html`<p class="hint">${t.t('receipt.verifyHint')}</p>` : ''}
  </div>`;
}

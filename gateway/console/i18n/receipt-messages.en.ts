import type { RECEIPT_ZH } from './receipt-messages.zh-cn.ts';

/** An access-log entry's receipt in English, typed by the Chinese keys. */
export const RECEIPT_EN: Readonly<Record<keyof typeof RECEIPT_ZH, string>> = {
  'receipt.label': 'Evidence',
  'receipt.cosigned': "This record is provably in the city's access log, and {witnesses} cosigned it.",
  'receipt.logOnly': "This record is provably in the city's access log (signed with the city's log key; no independent witness is configured yet).",
  'receipt.pending': 'Not yet cosigned by the witnesses; check again after {time}.',
  'receipt.download': 'Download the receipt (JSON)',
  'receipt.verifyHint': 'Anyone can check this receipt with verifyReceipt of @isthmus/log-proofs and the keys the gateway and the witnesses publish.',
  'receipt.place': 'entry {leaf} of the {size} entries of log {origin}',
  'receipt.short.cosigned': 'Cosigned · download',
  'receipt.short.pending': 'Not yet cosigned',
  'receipt.legacy': "This record was written before the city's log had witnesses: only the older hash chain protects it, and there is no receipt for it.",
};

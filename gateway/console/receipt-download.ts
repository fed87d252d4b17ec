import type { ReceiptFields } from '../access-log/access-log-reader.ts';
import type { ConsoleContext } from './console-env.ts';
import { ConsoleError } from './console-error.ts';

/**
 * An entry's receipt as a JSON file to keep: exactly the `receipt` object the
 * access log API gives (so `verifyReceipt` reads the file as it is), named
 * after the entry. An entry the person may not see, or one no cosigned
 * checkpoint covers yet, has no receipt to download (`NOT_FOUND`).
 */
export function receiptDownload(c: ConsoleContext, entryId: string, item: ReceiptFields | undefined): Response {
  if (!item) throw new ConsoleError('NOT_FOUND', 'no log entry the person can see');
  if (!item.receipt) throw new ConsoleError('NOT_FOUND', 'no cosigned checkpoint covers this entry yet');
  return c.body(`${JSON.stringify(item.receipt, null, 2)}\n`, 200, {
    'content-type': 'application/json; charset=utf-8',
    'content-disposition': `attachment; filename="isthmus-receipt-${entryId}.json"`,
    'cache-control': 'no-store',
  });
}

import type { AgreementQuota } from '../../policies/agreement.ts';
import type { QuotaUse } from './quota-use.ts';

/**
 * An agreement's quota in one line for `isthmus agreements show`, with the
 * current use where the admin API gave it: `100 requests/minute (used 37 of 100 this minute); 5000 records/day (used 12 of 5000 today)`.
 */
export function formatQuota(quota: AgreementQuota | undefined, use: QuotaUse | undefined): string | undefined {
  if (!quota) return undefined;
  const parts: string[] = [];
  if (quota.requestsPerMinute !== undefined) {
    const used = use?.requestsPerMinute;
    parts.push(`${quota.requestsPerMinute} requests/minute${used ? ` (used ${used.used} of ${used.limit} this minute)` : ''}`);
  }
  if (quota.recordsPerDay !== undefined) {
    const used = use?.recordsPerDay;
    parts.push(`${quota.recordsPerDay} records/day, Asia/Shanghai${used ? ` (used ${used.used} of ${used.limit} today)` : ''}`);
  }
  return parts.join('; ');
}

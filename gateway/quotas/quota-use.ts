import type { Agreement } from '../../policies/agreement.ts';
import { QUOTA_KINDS, type QuotaKind } from '../../policies/agreement-quota.ts';
import { quotaWindow } from '../../policies/quota-window.ts';
import type { QuotaStore } from './quota-store.ts';

/** How much of one quota is used in the current window. */
export interface QuotaUseOfKind {
  /** Units leased by the replicas in the window (at most the limit): spent, or held by a replica to spend. */
  readonly used: number;
  readonly limit: number;
  /** The window, ISO instants: the fixed minute, or the calendar day in Asia/Shanghai. */
  readonly windowStart: string;
  readonly windowEnd: string;
}

/** An agreement's quota use, per kind it limits. */
export type QuotaUse = Readonly<Partial<Record<QuotaKind, QuotaUseOfKind>>>;

/**
 * The current use of an agreement's quota, or `undefined` when it sets none
 * (no round trip then). Shown by the admin API (`quotaUse`), `agreements
 * show` and the console, and exported as `isthmus_agreement_quota_used`.
 */
export async function readQuotaUse(store: Pick<QuotaStore, 'use'>, agreement: Agreement, now: Date): Promise<QuotaUse | undefined> {
  const { quota } = agreement;
  if (!quota) return undefined;
  const use = await store.use(agreement.id, now);
  const result: Partial<Record<QuotaKind, QuotaUseOfKind>> = {};
  for (const kind of QUOTA_KINDS) {
    const limit = quota[kind];
    if (limit === undefined) continue;
    const window = quotaWindow(kind, now);
    result[kind] = { used: Math.min(use[kind], limit), limit, windowStart: window.start.toISOString(), windowEnd: window.end.toISOString() };
  }
  return result;
}

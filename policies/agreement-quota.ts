import type { AgreementQuota } from './agreement.ts';
import { badInput, type LifecycleRefusal } from './lifecycle-refusal.ts';

/**
 * The `quota` term of an agreement: how many requests a minute and how many
 * records a day its consumer may take. Pure; `agreement-terms.ts` calls it.
 */

/** The kinds of quota an agreement may set, in the order a reader sees them. */
export const QUOTA_KINDS = ['requestsPerMinute', 'recordsPerDay'] as const;

/** One kind of quota. */
export type QuotaKind = (typeof QUOTA_KINDS)[number];

/**
 * The largest limit of each kind: above these a quota limits nothing a city's
 * service could need (1,000 requests a second; ten million records a day is
 * more than a city's population), so a larger number is a typo or a bulk copy.
 */
export const MAX_QUOTA: Readonly<Record<QuotaKind, number>> = { requestsPerMinute: 60_000, recordsPerDay: 10_000_000 };

/** `undefined` when the quota is absent or valid; otherwise the refusal naming the field (`quota.recordsPerDay`). */
export function checkQuota(quota: AgreementQuota | undefined): LifecycleRefusal | undefined {
  if (quota === undefined) return undefined;
  if (typeof quota !== 'object' || quota === null || Array.isArray(quota)) return badInput('quota', 'quota must be { requestsPerMinute?, recordsPerDay? }');
  const named = Object.keys(quota).filter((key) => !(QUOTA_KINDS as readonly string[]).includes(key));
  if (named.length > 0) return badInput('quota', `quota takes only ${QUOTA_KINDS.join(' and ')}`);
  if (QUOTA_KINDS.every((kind) => quota[kind] === undefined)) return badInput('quota', `a quota sets ${QUOTA_KINDS.join(' or ')} (or leave quota out)`);
  for (const kind of QUOTA_KINDS) {
    const limit = quota[kind];
    if (limit === undefined) continue;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_QUOTA[kind]) {
      return badInput(`quota.${kind}`, `quota.${kind} must be a whole number from 1 to ${MAX_QUOTA[kind].toLocaleString('en')}`);
    }
  }
  return undefined;
}

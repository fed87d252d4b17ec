import type { AgreementQuota } from '../../policies/agreement.ts';
import type { QuotaFormValues } from './views/quota-terms.ts';

/** A number as a person types one in a box: digits, a sign, a decimal part. Anything else is not a number (NaN). */
const TYPED_NUMBER = /^[+-]?\d+(\.\d+)?$/;

/**
 * The `quota` term of the request form's two boxes: an empty box sets no
 * limit of its kind, and both empty set no quota. A number goes to the
 * lifecycle as typed (text that is not one as NaN), so that its terms
 * (`policies/agreement-quota.ts`) refuse 0, negative and fractional limits
 * in their own words, naming `quota.requestsPerMinute` or `quota.recordsPerDay`.
 */
export function quotaOfForm(values: QuotaFormValues): { readonly quota?: AgreementQuota } {
  const limit = (typed: string | undefined) => {
    const text = (typed ?? '').trim();
    return text === '' ? undefined : TYPED_NUMBER.test(text) ? Number(text) : Number.NaN;
  };
  const requestsPerMinute = limit(values.quotaPerMinute);
  const recordsPerDay = limit(values.quotaPerDay);
  if (requestsPerMinute === undefined && recordsPerDay === undefined) return {};
  return { quota: { ...(requestsPerMinute === undefined ? {} : { requestsPerMinute }), ...(recordsPerDay === undefined ? {} : { recordsPerDay }) } };
}

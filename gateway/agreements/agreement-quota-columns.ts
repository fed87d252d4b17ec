import type { Agreement, AgreementQuota } from '../../policies/agreement.ts';
import type { AgreementsTable } from './agreement-tables.ts';

/** The `quota` term as the columns of `agreements` (migration 0011): null where no limit of that kind is set. */
export function quotaColumns(agreement: Agreement): Pick<AgreementsTable, 'quota_requests_per_minute' | 'quota_records_per_day'> {
  return { quota_requests_per_minute: agreement.quota?.requestsPerMinute ?? null, quota_records_per_day: agreement.quota?.recordsPerDay ?? null };
}

/** The `quota` term read back from its columns: `{}` when neither is set (an agreement without a quota has no `quota` key). */
export function quotaOfRow(row: Pick<AgreementsTable, 'quota_requests_per_minute' | 'quota_records_per_day'>): { readonly quota?: AgreementQuota } {
  const { quota_requests_per_minute: requestsPerMinute, quota_records_per_day: recordsPerDay } = row;
  if (requestsPerMinute === null && recordsPerDay === null) return {};
  return { quota: { ...(requestsPerMinute === null ? {} : { requestsPerMinute }), ...(recordsPerDay === null ? {} : { recordsPerDay }) } };
}

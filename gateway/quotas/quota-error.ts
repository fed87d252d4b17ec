import { GraphQLError } from 'graphql';
import { requestError } from '../graphql/error-codes.ts';
import type { QuotaRefusal } from './quota-meter.ts';

const WHAT: Readonly<Record<QuotaRefusal['kind'], string>> = { requestsPerMinute: 'requests a minute', recordsPerDay: 'records a day (Asia/Shanghai)' };

/**
 * The refusal of a request over an agreement's quota: `LIMIT_EXCEEDED`,
 * reason `QUOTA_EXCEEDED`, HTTP 429 with `retry-after` the seconds until the
 * quota's window opens again, and `extensions.quota` saying which quota.
 */
export function quotaExceededError(refusal: QuotaRefusal): GraphQLError {
  const { agreementId, kind, limit, retryAfterSeconds } = refusal;
  const error = requestError('QUOTA_EXCEEDED', `Agreement ${agreementId} allows ${limit} ${WHAT[kind]}, and that is used up; try again in ${retryAfterSeconds} s.`, {
    quota: { agreementId, kind, limit },
  });
  const http = error.extensions.http as { status: number; headers?: Record<string, string> };
  // The table's answer has no fixed retry-after: this one is the window's own.
  return new GraphQLError(error.message, { extensions: { ...error.extensions, http: { ...http, headers: { ...http.headers, 'retry-after': String(retryAfterSeconds) } } } });
}

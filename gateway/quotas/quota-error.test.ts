import { describe, expect, it } from 'vitest';
import { toClientError } from '../graphql/error-codes.ts';
import { quotaExceededError } from './quota-error.ts';

describe('the quota refusal', () => {
  it('reaches the client as LIMIT_EXCEEDED, reason QUOTA_EXCEEDED, 429 with the window’s retry-after and which quota', () => {
    const error = toClientError(quotaExceededError({ agreementId: 'agr-1a2b3c', kind: 'recordsPerDay', limit: 500, retryAfterSeconds: 3_600 }));
    expect(error.extensions).toMatchObject({
      code: 'LIMIT_EXCEEDED',
      reason: 'QUOTA_EXCEEDED',
      quota: { agreementId: 'agr-1a2b3c', kind: 'recordsPerDay', limit: 500 },
      http: { status: 429, headers: { 'retry-after': '3600' } },
    });
    expect(error.message).toContain('agr-1a2b3c');
  });
});

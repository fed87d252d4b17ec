import { describe, expect, it } from 'vitest';
import { addWorkingDays } from '../../policies/agreement-lifecycle.ts';
import type { Agreement } from '../../policies/agreement.ts';
import { replyClock } from './reply-clock.ts';

function pending(replyBy: string): Agreement {
  return {
    id: 'agr-clock',
    version: 1,
    consumerBureau: 'housing-fund',
    consumerApp: 'loan-review',
    providerBureau: 'human-resources-social-security',
    fields: ['SocialInsurance.monthlyBase'],
    masks: {},
    purpose: 'housing-loan-review',
    legalBasis: '《住房公积金管理条例》第二十六条',
    rowScope: 'ANY',
    scope: 'agreement:agr-clock',
    validFrom: '2026-01-01T00:00:00.000Z',
    validUntil: '2027-01-01T00:00:00.000Z',
    status: 'PENDING',
    requestedBy: 'u-zhao',
    replyBy,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

describe('replyClock', () => {
  it('shows the whole reply period on the day a request is filed, then one less each working day', () => {
    // Thursday 3 December 2026, 10:00 in Shanghai; ten working days later is Thursday 17 December.
    const filed = new Date('2026-12-03T02:00:00Z');
    const request = pending(addWorkingDays(filed, 10).toISOString());
    expect(request.replyBy).toBe('2026-12-17T02:00:00.000Z');
    expect(replyClock(request, filed)).toEqual({ left: 10, late: false, lateDays: 0 });
    expect(replyClock(request, new Date('2026-12-04T09:00:00Z'))).toEqual({ left: 9, late: false, lateDays: 0 }); // Friday evening
    // The weekend counts nothing.
    expect(replyClock(request, new Date('2026-12-05T03:00:00Z')).left).toBe(9);
    expect(replyClock(request, new Date('2026-12-06T03:00:00Z')).left).toBe(9);
    expect(replyClock(request, new Date('2026-12-07T03:00:00Z')).left).toBe(8); // Monday
  });

  it('is due on the reply-by day, late after its instant, and counts the working days late', () => {
    const request = pending('2026-12-17T02:00:00.000Z');
    expect(replyClock(request, new Date('2026-12-17T01:59:59Z'))).toEqual({ left: 0, late: false, lateDays: 0 });
    expect(replyClock(request, new Date('2026-12-17T02:00:01Z'))).toEqual({ left: 0, late: true, lateDays: 0 });
    expect(replyClock(request, new Date('2026-12-18T02:00:00Z'))).toEqual({ left: 0, late: true, lateDays: 1 }); // Friday
    expect(replyClock(request, new Date('2026-12-21T02:00:00Z'))).toEqual({ left: 0, late: true, lateDays: 2 }); // Monday
  });

  it('counts days of the calendar in Shanghai, not of the server', () => {
    // 17:00 UTC on Friday 6 March is 01:00 on Saturday in Shanghai: Monday 9 March is the next working day there.
    const request = pending('2026-03-09T02:00:00.000Z');
    expect(replyClock(request, new Date('2026-03-06T15:59:00Z')).left).toBe(1); // still Friday in Shanghai
    expect(replyClock(request, new Date('2026-03-06T17:00:00Z')).left).toBe(1); // Saturday in Shanghai
    expect(replyClock(request, new Date('2026-03-08T17:00:00Z')).left).toBe(0); // Monday 01:00 in Shanghai: due today
  });
});

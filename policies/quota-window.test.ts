import { describe, expect, it } from 'vitest';
import { quotaWindow, secondsUntilWindowEnds } from './quota-window.ts';
import { checkQuota } from './agreement-quota.ts';

describe('quota windows', () => {
  it('counts requests in the fixed minute', () => {
    const window = quotaWindow('requestsPerMinute', new Date('2026-03-01T10:15:42.500Z'));
    expect(window.start.toISOString()).toBe('2026-03-01T10:15:00.000Z');
    expect(window.end.toISOString()).toBe('2026-03-01T10:16:00.000Z');
    expect(secondsUntilWindowEnds('requestsPerMinute', new Date('2026-03-01T10:15:42.500Z'))).toBe(18);
  });

  it('counts records in the calendar day of Shanghai, which starts at 16:00 UTC', () => {
    const lateInShanghai = quotaWindow('recordsPerDay', new Date('2026-03-01T15:59:59Z'));
    expect(lateInShanghai.start.toISOString()).toBe('2026-02-28T16:00:00.000Z');
    expect(lateInShanghai.end.toISOString()).toBe('2026-03-01T16:00:00.000Z');
    const nextDay = quotaWindow('recordsPerDay', new Date('2026-03-01T16:00:00Z'));
    expect(nextDay.start.toISOString()).toBe('2026-03-01T16:00:00.000Z');
    expect(secondsUntilWindowEnds('recordsPerDay', new Date('2026-03-01T15:00:00Z'))).toBe(3_600);
  });

  it('never answers retry-after 0, even on the last instant of a window', () => {
    expect(secondsUntilWindowEnds('requestsPerMinute', new Date('2026-03-01T10:15:59.999Z'))).toBe(1);
  });
});

describe('the quota term', () => {
  it('accepts whole numbers within range, either kind alone or both', () => {
    expect(checkQuota(undefined)).toBeUndefined();
    expect(checkQuota({ requestsPerMinute: 100 })).toBeUndefined();
    expect(checkQuota({ recordsPerDay: 5_000, requestsPerMinute: 1 })).toBeUndefined();
  });

  it.each([
    [{ requestsPerMinute: 0 }, 'quota.requestsPerMinute'],
    [{ requestsPerMinute: -5 }, 'quota.requestsPerMinute'],
    [{ recordsPerDay: 2.5 }, 'quota.recordsPerDay'],
    [{ recordsPerDay: 1e12 }, 'quota.recordsPerDay'],
    [{ requestsPerMinute: Number.NaN }, 'quota.requestsPerMinute'],
    [{}, 'quota'],
    [{ perHour: 3 }, 'quota'],
  ])('refuses %j naming %s', (quota, field) => {
    expect(checkQuota(quota as never)).toMatchObject({ ok: false, code: 'BAD_USER_INPUT', field });
  });
});

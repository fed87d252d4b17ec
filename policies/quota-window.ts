import type { QuotaKind } from './agreement-quota.ts';

/**
 * The windows quotas are counted in. Requests per minute: the fixed minute
 * (hh:mm:00 to hh:mm+1:00; the same in UTC and in the city, whose offset is
 * whole hours). Records per day: the calendar day in the city, Asia/Shanghai
 * (UTC+8 all year, no daylight saving time), 00:00 to 24:00 local time.
 * Fixed windows, not sliding ones, because every replica must agree on the
 * window's key without talking to the others, and a counter row per window
 * is one `update … returning` in the store.
 */

/** The city's offset from UTC (Asia/Shanghai; as `policies/working-calendar.ts`). */
const CITY_OFFSET_MS = 8 * 3_600_000;
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** One window: `[start, end)`. */
export interface QuotaWindow {
  readonly start: Date;
  readonly end: Date;
}

/**
 * The window of `kind` that holds `now`.
 *
 * @example
 * quotaWindow('recordsPerDay', new Date('2026-03-01T15:59:59Z')); // 2026-02-28T16:00Z … 2026-03-01T16:00Z (1 March in Shanghai)
 */
export function quotaWindow(kind: QuotaKind, now: Date): QuotaWindow {
  const at = now.getTime();
  if (kind === 'requestsPerMinute') {
    const start = Math.floor(at / MINUTE_MS) * MINUTE_MS;
    return { start: new Date(start), end: new Date(start + MINUTE_MS) };
  }
  const start = Math.floor((at + CITY_OFFSET_MS) / DAY_MS) * DAY_MS - CITY_OFFSET_MS;
  return { start: new Date(start), end: new Date(start + DAY_MS) };
}

/** Whole seconds until the window holding `now` ends (at least 1): the `retry-after` of a refusal in it. */
export function secondsUntilWindowEnds(kind: QuotaKind, now: Date): number {
  return Math.max(1, Math.ceil((quotaWindow(kind, now).end.getTime() - now.getTime()) / 1000));
}

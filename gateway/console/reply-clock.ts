import { isOverdue } from '../../policies/agreement-lifecycle.ts';
import type { Agreement } from '../../policies/agreement.ts';
import { CONSOLE_TIME_ZONE } from './i18n/translator.ts';

const DAY_MS = 86_400_000;
/** Longest span counted: a reply-by date is at most 65 working days out, so this bound only stops a corrupt date. */
const MAX_COUNTED_DAYS = 3_660;
const CALENDAR_DATE = new Intl.DateTimeFormat('en-CA', { timeZone: CONSOLE_TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });

/** How a pending request stands against its reply-by date. */
export interface ReplyClock {
  /** Working days after today up to and including the reply-by day; 0 on that day and after. */
  readonly left: number;
  /** The reply-by instant has passed (the lifecycle's own `isOverdue`). */
  readonly late: boolean;
  /** Working days after the reply-by day up to and including today; 0 while not late or on the day itself. */
  readonly lateDays: number;
}

/**
 * Counts in the city's calendar (dates in Asia/Shanghai), as a person
 * counts: a request filed on a Thursday with ten working days to answer
 * shows 10 that day and one less each working day after. Working days are
 * Monday to Friday for now; the national holiday calendar replaces this
 * test when it comes, here and in the lifecycle alike.
 *
 * @example
 * replyClock({ status: 'PENDING', replyBy: '2026-03-10T02:00:00Z', … }, new Date('2026-03-06T02:00:00Z')); // { left: 2, late: false, lateDays: 0 } (Fri → Tue)
 */
export function replyClock(agreement: Agreement, now: Date): ReplyClock {
  const replyBy = agreement.replyBy ?? now.toISOString();
  const today = calendarDay(now);
  const due = calendarDay(new Date(replyBy));
  return { left: workingDaysAfter(today, due), late: isOverdue(agreement, now), lateDays: workingDaysAfter(due, today) };
}

/** Days since the epoch of the instant's date in Asia/Shanghai. */
function calendarDay(at: Date): number {
  return Math.floor(Date.parse(`${CALENDAR_DATE.format(at)}T00:00:00Z`) / DAY_MS);
}

/** Working days `d` with `from < d ≤ until`. */
function workingDaysAfter(from: number, until: number): number {
  let count = 0;
  for (let day = from + 1; day <= until && day - from <= MAX_COUNTED_DAYS; day += 1) {
    const weekday = new Date(day * DAY_MS).getUTCDay();
    if (weekday !== 0 && weekday !== 6) count += 1;
  }
  return count;
}

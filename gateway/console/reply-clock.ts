import { isOverdue } from '../../policies/agreement-lifecycle.ts';
import type { Agreement } from '../../policies/agreement.ts';
import { WEEKDAY_CALENDAR, workingDaysBetween, type WorkingCalendar } from '../../policies/working-calendar.ts';

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
 * those of `calendar` — the same national holiday calendar, and the same
 * `workingDaysBetween`, that the lifecycle set the reply-by date with.
 *
 * @example
 * replyClock({ status: 'PENDING', replyBy: '2026-03-10T02:00:00Z', … }, new Date('2026-03-06T02:00:00Z'), calendar); // { left: 2, late: false, lateDays: 0 } (Fri → Tue)
 */
export function replyClock(agreement: Agreement, now: Date, calendar: WorkingCalendar = WEEKDAY_CALENDAR): ReplyClock {
  const due = new Date(agreement.replyBy ?? now.toISOString());
  return { left: workingDaysBetween(now, due, calendar), late: isOverdue(agreement, now), lateDays: workingDaysBetween(due, now, calendar) };
}

/**
 * Working days in the national calendar: Monday to Friday, except the
 * public holidays of the State Council's yearly notice (国务院办公厅关于部分
 * 节假日安排的通知), plus the weekend days that notice turns into working
 * days (调休上班). Pure data and pure functions: the gateway reads the
 * yearly files at start-up (`gateway/calendar/load-working-calendar.ts`)
 * and hands the calendar in.
 *
 * Dates are the city's (Asia/Shanghai, UTC+8 all year: China keeps no
 * daylight saving time, so a calendar day is always 24 hours).
 */

/** A calendar date, `YYYY-MM-DD`. */
export type CalendarDate = string;

/** One holiday of a year's schedule (e.g. 春节), with the days off and the weekend days worked in exchange. */
export interface CalendarHoliday {
  readonly name: { readonly zh: string; readonly en: string };
  /** Every day off, weekends inside the break included. */
  readonly daysOff: readonly CalendarDate[];
  /** Weekend days that are working days because of this holiday (调休上班). */
  readonly workingWeekendDays: readonly CalendarDate[];
  /** True when the days were derived from the statutory rules rather than copied from the published notice. */
  readonly provisional?: boolean;
  /** Why a provisional holiday's days are what they are. */
  readonly note?: string;
}

/** One year's schedule, as a data file holds it. */
export interface CalendarYear {
  readonly year: number;
  /** Where the schedule comes from (the notice's title and number). */
  readonly source: string;
  /** True while the year's notice is not yet published and the file is derived from the statutory holidays. */
  readonly provisional: boolean;
  readonly holidays: readonly CalendarHoliday[];
}

/** Whether a date is a working day; what reply-by dates are counted in. */
export interface WorkingCalendar {
  isWorkingDay(date: CalendarDate): boolean;
  /** The years whose schedule is known; other years count Monday to Friday. */
  readonly years: readonly number[];
}

/** The city's offset from UTC: Asia/Shanghai, no daylight saving time. */
const CITY_OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;
/** Longest span counted: a reply-by date is at most 65 working days out, so this bound only stops a corrupt date. */
const MAX_COUNTED_DAYS = 3_660;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Monday to Friday, with no holidays: the calendar of a year no schedule file covers, and of tests that want plain weeks. */
export const WEEKDAY_CALENDAR: WorkingCalendar = { isWorkingDay: isWeekday, years: [] };

/**
 * A calendar of the given years: a day off of a holiday is not a working
 * day, a working weekend day is, and every other day counts Monday to
 * Friday. Checks every year first and throws a `TypeError` naming each
 * problem (a date outside its year, a "working weekend day" that is a
 * weekday, a day both off and worked, a year given twice).
 *
 * @example
 * const calendar = createWorkingCalendar([cn2026]);
 * calendar.isWorkingDay('2026-02-16'); // false: 春节
 * calendar.isWorkingDay('2026-02-14'); // true: a Saturday worked for 春节
 */
export function createWorkingCalendar(years: readonly CalendarYear[]): WorkingCalendar {
  const problems = years.flatMap(calendarYearProblems);
  const seen = new Set<number>();
  for (const { year } of years) {
    if (seen.has(year)) problems.push(`${year} is given twice`);
    seen.add(year);
  }
  if (problems.length > 0) throw new TypeError(`invalid working calendar: ${problems.join('; ')}`);
  const off = new Set<CalendarDate>();
  const worked = new Set<CalendarDate>();
  for (const year of years) {
    for (const holiday of year.holidays) {
      for (const day of holiday.daysOff) off.add(day);
      for (const day of holiday.workingWeekendDays) worked.add(day);
    }
  }
  return {
    years: [...seen].sort((a, b) => a - b),
    isWorkingDay: (date) => (off.has(date) ? false : worked.has(date) ? true : isWeekday(date)),
  };
}

/** What is wrong with one year's schedule; empty when nothing is. */
export function calendarYearProblems(year: CalendarYear): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(year.year) || year.year < 2000 || year.year > 2100) return [`year must be a whole number from 2000 to 2100`];
  const off = new Set<string>();
  for (const holiday of year.holidays) {
    const label = `${year.year} ${holiday.name?.en ?? '?'}`;
    if (!holiday.name || typeof holiday.name.zh !== 'string' || typeof holiday.name.en !== 'string') problems.push(`${label}: a holiday needs a name in Chinese and English`);
    if (!Array.isArray(holiday.daysOff) || holiday.daysOff.length === 0) problems.push(`${label}: daysOff must list at least one date`);
    if (!Array.isArray(holiday.workingWeekendDays)) problems.push(`${label}: workingWeekendDays must be a list`);
    for (const day of holiday.daysOff ?? []) {
      if (!isDateOf(day, year.year)) problems.push(`${label}: ${String(day)} is not a date of ${year.year}`);
      off.add(day);
    }
    for (const day of holiday.workingWeekendDays ?? []) {
      // A worked day just after New Year may fall in the next year, one before 春节 in the year before: allow a neighbour year.
      if (!isDate(day) || Math.abs(Number(day.slice(0, 4)) - year.year) > 1) problems.push(`${label}: ${String(day)} is not a date near ${year.year}`);
      else if (isWeekday(day)) problems.push(`${label}: ${day} is a weekday, so working on it needs no adjustment`);
    }
  }
  for (const holiday of year.holidays) for (const day of holiday.workingWeekendDays ?? []) if (off.has(day)) problems.push(`${year.year}: ${day} is both a day off and a working day`);
  return problems;
}

/** The city's calendar date of an instant. */
export function cityDate(at: Date): CalendarDate {
  return new Date(at.getTime() + CITY_OFFSET_MS).toISOString().slice(0, 10);
}

/**
 * Adds working days to an instant, keeping the time of day: each following
 * working day of the city's calendar counts one. Friday 10:00 plus 1 is
 * Monday 10:00, unless Monday is a holiday; a Saturday worked for 春节
 * counts like any weekday.
 *
 * @example
 * addWorkingDays(new Date('2026-02-13T02:00:00Z'), 1, calendar); // 2026-02-14T02:00Z, the Saturday worked before 春节
 */
export function addWorkingDays(from: Date, days: number, calendar: WorkingCalendar = WEEKDAY_CALENDAR): Date {
  let at = from.getTime();
  let left = days;
  for (let step = 0; left > 0 && step < MAX_COUNTED_DAYS; step += 1) {
    at += DAY_MS;
    if (calendar.isWorkingDay(cityDate(new Date(at)))) left -= 1;
  }
  return new Date(at);
}

/**
 * Working days `d` of the city's calendar with `from < d ≤ until`, by the
 * dates of the two instants (their times of day do not matter); 0 when
 * `until` is not after `from`.
 *
 * @example
 * workingDaysBetween(new Date('2026-02-13T02:00:00Z'), new Date('2026-02-24T02:00:00Z'), calendar); // 2: Sat 14th (worked) and Tue 24th
 */
export function workingDaysBetween(from: Date, until: Date, calendar: WorkingCalendar = WEEKDAY_CALENDAR): number {
  const start = Date.parse(`${cityDate(from)}T00:00:00Z`);
  const end = Date.parse(`${cityDate(until)}T00:00:00Z`);
  let count = 0;
  for (let day = start + DAY_MS; day <= end && day - start <= MAX_COUNTED_DAYS * DAY_MS; day += DAY_MS) {
    if (calendar.isWorkingDay(new Date(day).toISOString().slice(0, 10))) count += 1;
  }
  return count;
}

function isWeekday(date: CalendarDate): boolean {
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
  return weekday !== 0 && weekday !== 6;
}

function isDate(value: unknown): value is CalendarDate {
  if (typeof value !== 'string') return false;
  const match = DATE.exec(value);
  const at = Date.parse(`${value}T00:00:00Z`);
  return match !== null && Number.isFinite(at) && new Date(at).toISOString().slice(0, 10) === value;
}

function isDateOf(value: unknown, year: number): value is CalendarDate {
  return isDate(value) && Number(value.slice(0, 4)) === year;
}

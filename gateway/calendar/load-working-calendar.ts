import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { calendarYearProblems, createWorkingCalendar, type CalendarYear, type WorkingCalendar } from '../../policies/working-calendar.ts';

/** The calendars the gateway ships: `cn-<year>.json` beside this file. */
export const DEFAULT_CALENDAR_DIR = fileURLToPath(new URL('./', import.meta.url));
const FILE = /^cn-(\d{4})\.json$/;

/** A calendar folder that cannot be used; the message names every file and problem. */
export class CalendarError extends Error {
  readonly code = 'CALENDAR_INVALID';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid working calendar:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.name = 'CalendarError';
    this.problems = problems;
  }
}

/** The loaded calendar, and what a start-up should warn about. */
export interface LoadedCalendar {
  readonly calendar: WorkingCalendar;
  /** Years read whose file says `provisional` (derived from the statutory holidays, the State Council's notice not yet in). */
  readonly provisionalYears: readonly number[];
}

/**
 * Reads every `cn-<year>.json` of `dir` (one file per year, the State
 * Council's holiday schedule) and checks them all, at start-up: a file that
 * does not parse, names another year than its file name, or breaks a rule
 * of {@link calendarYearProblems} stops the start with every problem named.
 * A folder with no year file is refused too: reply-by dates would silently
 * ignore every holiday.
 *
 * @throws CalendarError
 * @example
 * const { calendar } = loadWorkingCalendar(config.calendarDir);
 */
export function loadWorkingCalendar(dir: string = DEFAULT_CALENDAR_DIR): LoadedCalendar {
  const problems: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => FILE.test(name)).sort();
  } catch (error) {
    throw new CalendarError([`${dir}: the folder cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  if (names.length === 0) throw new CalendarError([`${dir}: no calendar file (cn-<year>.json)`]);
  const years: CalendarYear[] = [];
  for (const name of names) {
    let year: CalendarYear;
    try {
      year = JSON.parse(readFileSync(join(dir, name), 'utf8')) as CalendarYear;
    } catch {
      problems.push(`${name}: not valid JSON`);
      continue;
    }
    if (typeof year !== 'object' || year === null || !Array.isArray(year.holidays) || typeof year.source !== 'string' || typeof year.provisional !== 'boolean') {
      problems.push(`${name}: must be { year, source, provisional, holidays: [...] }`);
      continue;
    }
    if (year.year !== Number(FILE.exec(name)![1])) problems.push(`${name}: says year ${String(year.year)}`);
    problems.push(...calendarYearProblems(year).map((problem) => `${name}: ${problem}`));
    years.push(year);
  }
  if (problems.length > 0) throw new CalendarError(problems);
  return { calendar: createWorkingCalendar(years), provisionalYears: years.filter((year) => year.provisional).map((year) => year.year) };
}

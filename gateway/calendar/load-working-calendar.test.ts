import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addWorkingDays, createWorkingCalendar, workingDaysBetween, WEEKDAY_CALENDAR } from '../../policies/working-calendar.ts';
import { loadConfig } from '../config/config.ts';
import { replyClock } from '../console/reply-clock.ts';
import type { Agreement } from '../../policies/agreement.ts';
import { CalendarError, loadWorkingCalendar } from './load-working-calendar.ts';

/** The shipped calendar, as the gateway loads it at start-up. */
const { calendar, provisionalYears } = loadWorkingCalendar();
/** 10:00 in Shanghai on a date. */
const at10 = (date: string) => new Date(`${date}T02:00:00Z`);

describe('the national working calendar shipped with the gateway', () => {
  it('covers 2026 from the State Council notice and 2027 provisionally', () => {
    expect(calendar.years).toEqual([2026, 2027]);
    expect(provisionalYears).toEqual([2027]);
  });

  it('knows the 2026 Spring Festival break and the Saturdays worked for it', () => {
    for (const day of ['2026-02-15', '2026-02-16', '2026-02-17', '2026-02-20', '2026-02-23']) expect(calendar.isWorkingDay(day), day).toBe(false);
    expect(calendar.isWorkingDay('2026-02-14')).toBe(true); // Saturday, worked
    expect(calendar.isWorkingDay('2026-02-28')).toBe(true); // Saturday, worked
    expect(calendar.isWorkingDay('2026-02-24')).toBe(true);
    expect(calendar.isWorkingDay('2026-03-07')).toBe(false); // an ordinary Saturday
  });

  it('gives a request filed before the Spring Festival its ten working days after the break', () => {
    const filed = at10('2026-02-12'); // Thursday
    // Fri 13, Sat 14 (worked), the break, Tue 24 … Fri 27, Sat 28 (worked), Mon 2, Tue 3, Wed 4 March.
    expect(addWorkingDays(filed, 10, calendar).toISOString()).toBe('2026-03-04T02:00:00.000Z');
    // Counting weekdays alone would have left the officer two working days after the break.
    expect(addWorkingDays(filed, 10, WEEKDAY_CALENDAR).toISOString()).toBe('2026-02-26T02:00:00.000Z');
  });

  it('skips the National Day week and counts the Saturday worked after it', () => {
    expect(addWorkingDays(at10('2026-09-30'), 3, calendar).toISOString()).toBe('2026-10-10T02:00:00.000Z');
    expect(addWorkingDays(at10('2026-09-30'), 10, calendar).toISOString()).toBe('2026-10-20T02:00:00.000Z');
    expect(addWorkingDays(at10('2026-09-18'), 1, calendar).toISOString()).toBe('2026-09-20T02:00:00.000Z'); // Sunday, worked
  });

  it('counts New Year 2027 and the provisional 2027 Spring Festival as days off', () => {
    expect(addWorkingDays(at10('2026-12-31'), 1, calendar).toISOString()).toBe('2027-01-04T02:00:00.000Z');
    expect(addWorkingDays(at10('2027-02-04'), 1, calendar).toISOString()).toBe('2027-02-11T02:00:00.000Z');
  });

  it('counts days left in the same calendar the reply-by date was set in', () => {
    const filed = at10('2026-02-12');
    const request = { status: 'PENDING', replyBy: addWorkingDays(filed, 10, calendar).toISOString() } as Agreement;
    expect(replyClock(request, filed, calendar)).toEqual({ left: 10, late: false, lateDays: 0 });
    expect(replyClock(request, at10('2026-02-14'), calendar).left).toBe(8);
    expect(replyClock(request, at10('2026-02-20'), calendar).left).toBe(8); // nothing counts during the break
    expect(replyClock(request, at10('2026-03-05'), calendar)).toEqual({ left: 0, late: true, lateDays: 1 });
    expect(workingDaysBetween(at10('2026-02-13'), at10('2026-02-24'), calendar)).toBe(2);
  });

  it('takes the date in Shanghai, not in UTC', () => {
    // 2026-02-13T17:00Z is Saturday 14 February, 01:00 in Shanghai: a worked day, so one working day later is Tuesday 24th.
    expect(addWorkingDays(new Date('2026-02-13T17:00:00Z'), 1, calendar).toISOString()).toBe('2026-02-23T17:00:00.000Z');
  });
});

describe('loading a calendar folder', () => {
  const dirs: string[] = [];
  const folder = (files: Record<string, unknown>) => {
    const dir = mkdtempSync(join(tmpdir(), 'isthmus-calendar-'));
    dirs.push(dir);
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const year = (overrides: Record<string, unknown> = {}) => ({
    year: 2030,
    source: 'test',
    provisional: true,
    holidays: [{ name: { zh: '元旦', en: "New Year's Day" }, daysOff: ['2030-01-01'], workingWeekendDays: [] }],
    ...overrides,
  });

  it('refuses a folder without a year file, a file that is not JSON, and a schedule that breaks the rules, naming each', () => {
    expect(() => loadWorkingCalendar(folder({}))).toThrow(CalendarError);
    let error: unknown;
    try {
      loadWorkingCalendar(
        folder({
          'cn-2030.json': year({ holidays: [{ name: { zh: '春节', en: 'Spring Festival' }, daysOff: ['2030-02-30', '2031-01-01'], workingWeekendDays: ['2030-02-04'] }] }),
          'cn-2031.json': '{ not json',
          'cn-2032.json': year(),
        }),
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CalendarError);
    const problems = (error as CalendarError).problems;
    expect(problems).toEqual([
      'cn-2030.json: 2030 Spring Festival: 2030-02-30 is not a date of 2030',
      'cn-2030.json: 2030 Spring Festival: 2031-01-01 is not a date of 2030',
      'cn-2030.json: 2030 Spring Festival: 2030-02-04 is a weekday, so working on it needs no adjustment',
      'cn-2031.json: not valid JSON',
      'cn-2032.json: says year 2030',
    ]);
  });

  it('refuses a day that is both off and worked, and a year given twice', () => {
    const both = year({ holidays: [{ name: { zh: '甲', en: 'A' }, daysOff: ['2030-01-05'], workingWeekendDays: ['2030-01-05'] }] });
    expect(() => createWorkingCalendar([both as never])).toThrow(/2030-01-05 is both a day off and a working day/);
    expect(() => createWorkingCalendar([year() as never, year() as never])).toThrow(/2030 is given twice/);
  });

  it('reads the folder from ISTHMUS_CALENDAR_DIR', () => {
    const dir = folder({ 'cn-2030.json': year() });
    expect(loadConfig({ ISTHMUS_CALENDAR_DIR: dir }).calendarDir).toBe(dir);
    expect(loadWorkingCalendar(dir).calendar.isWorkingDay('2030-01-01')).toBe(false);
  });
});

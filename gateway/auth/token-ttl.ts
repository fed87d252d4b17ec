/** Longest life of a dev token: long enough for a week of demos, short enough that a leaked one dies. */
export const MAX_DEV_TOKEN_TTL_SECONDS = 30 * 86_400;

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/**
 * A token lifetime in seconds: a whole number of seconds, or a duration
 * such as `90s`, `30m`, `1h`, `7d`.
 *
 * @example
 * parseTtl('1h'); // 3600
 * @throws TypeError saying what is accepted, when `value` is not a duration from 1 s to `max`.
 */
export function parseTtl(value: number | string, max: number = MAX_DEV_TOKEN_TTL_SECONDS): number {
  let seconds: number | undefined;
  if (typeof value === 'number') seconds = value;
  else {
    const match = /^(\d{1,9})([smhd])$/.exec(value.trim());
    if (match) seconds = Number(match[1]) * UNIT_SECONDS[match[2]!]!;
  }
  if (seconds === undefined || !Number.isInteger(seconds) || seconds < 1 || seconds > max) {
    throw new TypeError(`ttl must be a duration such as 30m, 1h or 7d, at most ${describeSeconds(max)}`);
  }
  return seconds;
}

function describeSeconds(seconds: number): string {
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60]] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/**
 * GB 11643-1999 citizen identity numbers (公民身份号码): 6-digit area code,
 * 8-digit birth date, 3-digit sequence (odd for men, even for women) and a
 * check character computed with ISO 7064 MOD 11-2.
 */

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
// Indexed by the weighted sum modulo 11.
const CHECK_CHARS = '10X98765432';
const FIRST_17 = /^\d{17}$/;
const FULL = /^\d{17}[\dX]$/;

/**
 * The check character of an identity number from its first 17 digits.
 *
 * @example idNumberCheckDigit('11010519491231002') // 'X'
 * @throws RangeError when `first17` is not exactly 17 decimal digits.
 */
export function idNumberCheckDigit(first17: string): string {
  if (!FIRST_17.test(first17)) throw new RangeError('expected 17 decimal digits');
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += Number(first17[i]) * WEIGHTS[i]!;
  return CHECK_CHARS[sum % 11]!;
}

/**
 * Whether `id` is a well-formed 18-character identity number: digits with an
 * upper-case `X` allowed only as the check character, a birth date that
 * exists on the calendar, and a matching check character. It does not check
 * that the area code is assigned.
 */
export function isValidIdNumber(id: string): boolean {
  if (!FULL.test(id)) return false;
  const year = Number(id.slice(6, 10));
  const month = Number(id.slice(10, 12));
  const day = Number(id.slice(12, 14));
  // Date.UTC rolls 02-30 over to 03-02, so a round trip tells real dates apart.
  const date = new Date(Date.UTC(year, month - 1, day));
  if (year < 1800 || date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return false;
  }
  return idNumberCheckDigit(id.slice(0, 17)) === id[17];
}

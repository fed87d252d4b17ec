/**
 * GB 11714-1997 organisation codes (组织机构代码): 8 body characters (digits
 * and upper-case letters) and a check character. Since 2015 they are the 9th
 * to 17th characters of a unified social credit code.
 */

const WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2] as const;
const BODY = /^[0-9A-Z]{8}$/;

/**
 * The check character of an organisation code from its 8 body characters:
 * `11 - (weighted sum mod 11)`, where 10 is written `X` and 11 is `0`.
 *
 * @example organizationCodeCheckChar('M000100Y') // '4'
 * @throws RangeError when `body` is not 8 digits or upper-case letters.
 */
export function organizationCodeCheckChar(body: string): string {
  if (!BODY.test(body)) throw new RangeError('expected 8 digits or upper-case letters');
  let sum = 0;
  // parseInt base 36 gives 0-9 for digits and A=10 … Z=35, the values the standard uses.
  for (let i = 0; i < 8; i += 1) sum += Number.parseInt(body[i]!, 36) * WEIGHTS[i]!;
  const check = 11 - (sum % 11);
  return check === 10 ? 'X' : check === 11 ? '0' : String(check);
}

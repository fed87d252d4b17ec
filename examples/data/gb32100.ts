/**
 * GB 32100-2015 unified social credit codes (统一社会信用代码): registration
 * authority, entity type, 6-digit area code, 9-character organisation code
 * (GB 11714) and a check character, all from a 31-character alphabet that
 * leaves out I, O, S, V and Z.
 */

/** The characters a unified social credit code is written in; a character's index is its value. */
export const CREDIT_CODE_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;
const FIRST_17 = /^[0-9A-HJ-NPQRTUWXY]{17}$/;
const FULL = /^[0-9A-HJ-NPQRTUWXY]{18}$/;

/**
 * The check character of a unified social credit code from its first 17 characters.
 *
 * @example creditCodeCheckChar('91350100M000100Y4') // '3'
 * @throws RangeError when `first17` is not 17 characters of {@link CREDIT_CODE_ALPHABET}.
 */
export function creditCodeCheckChar(first17: string): string {
  if (!FIRST_17.test(first17)) throw new RangeError('expected 17 characters of the credit code alphabet');
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += CREDIT_CODE_ALPHABET.indexOf(first17[i]!) * WEIGHTS[i]!;
  // 31 - 0 would be 31, which has no character: the standard maps it to 0.
  return CREDIT_CODE_ALPHABET[(31 - (sum % 31)) % 31]!;
}

/**
 * Whether `code` is 18 upper-case characters of the credit code alphabet with
 * a matching check character. It does not check the embedded organisation
 * code or that the area code is assigned.
 */
export function isValidCreditCode(code: string): boolean {
  return FULL.test(code) && creditCodeCheckChar(code.slice(0, 17)) === code[17];
}

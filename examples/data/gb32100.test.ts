import { describe, expect, it } from 'vitest';
import { creditCodeCheckChar, isValidCreditCode } from './gb32100.ts';
import { organizationCodeCheckChar } from './gb11714.ts';

// Published codes: the standard's example, and two registrations in the national
// enterprise credit information publicity system.
const PUBLISHED = ['91350100M000100Y43', '914403001922038216', '91440300708461136T'];

describe('GB 32100 unified social credit codes', () => {
  it('accepts published codes and computes their check characters', () => {
    for (const code of PUBLISHED) {
      expect(isValidCreditCode(code)).toBe(true);
      expect(creditCodeCheckChar(code.slice(0, 17))).toBe(code[17]);
    }
  });

  it('maps a weighted sum divisible by 31 to 0', () => {
    // All zeros sum to 0: 31 - 0 = 31, which the standard writes as 0.
    expect(creditCodeCheckChar('00000000000000000')).toBe('0');
    // '1' in the first place weighs 1: 31 - 1 = 30, the last character.
    expect(creditCodeCheckChar('10000000000000000')).toBe('Y');
  });

  it('rejects a changed character, letters outside the alphabet and bad shapes', () => {
    expect(isValidCreditCode('91350100M000100Y44')).toBe(false);
    expect(isValidCreditCode('91350100M000100Y4I')).toBe(false);
    expect(isValidCreditCode('91350100m000100y43')).toBe(false);
    expect(isValidCreditCode('91350100M000100Y4')).toBe(false);
    expect(() => creditCodeCheckChar('91350100M000100O4')).toThrow(RangeError);
  });

  it('notices any single substituted character', () => {
    const code = PUBLISHED[0]!;
    for (let i = 0; i < 17; i += 1) {
      const replacement = code[i] === '1' ? '2' : '1';
      expect(isValidCreditCode(code.slice(0, i) + replacement + code.slice(i + 1))).toBe(false);
    }
  });
});

describe('GB 11714 organisation codes', () => {
  it('computes the check characters of the organisation codes inside published credit codes', () => {
    for (const code of PUBLISHED) expect(organizationCodeCheckChar(code.slice(8, 16))).toBe(code[16]);
  });

  it('writes 10 as X and 11 as 0', () => {
    // Sum 0 → 11 - 0 = 11 → '0'; 4 × weight 3 = 12 ≡ 1 → 10 → 'X'; 5 × weight 5 = 25 ≡ 3 → 8.
    expect(organizationCodeCheckChar('00000000')).toBe('0');
    expect(organizationCodeCheckChar('40000000')).toBe('X');
    expect(organizationCodeCheckChar('00005000')).toBe('8');
  });
});

import { describe, expect, it } from 'vitest';
import { idNumberCheckDigit, isValidIdNumber } from './gb11643.ts';

describe('GB 11643 identity numbers', () => {
  it('computes the check characters of published examples', () => {
    // The standard's own examples.
    expect(idNumberCheckDigit('11010519491231002')).toBe('X');
    expect(idNumberCheckDigit('44052418800101001')).toBe('4');
  });

  it('accepts valid numbers', () => {
    expect(isValidIdNumber('11010519491231002X')).toBe(true);
    expect(isValidIdNumber('440524188001010014')).toBe(true);
  });

  it('rejects a wrong check character, a lower-case x and bad shapes', () => {
    expect(isValidIdNumber('110105194912310021')).toBe(false);
    expect(isValidIdNumber('11010519491231002x')).toBe(false);
    expect(isValidIdNumber('1101051949123100X2')).toBe(false);
    expect(isValidIdNumber('11010519491231002')).toBe(false);
    expect(isValidIdNumber('')).toBe(false);
  });

  it('rejects dates that do not exist, even with a matching check character', () => {
    for (const first17 of ['33040219990230001', '33040220011301001', '33040219000229001', '33040219990100001']) {
      expect(isValidIdNumber(first17 + idNumberCheckDigit(first17))).toBe(false);
    }
    // 2000 was a leap year, 1900 was not.
    const leap = '33040220000229001';
    expect(isValidIdNumber(leap + idNumberCheckDigit(leap))).toBe(true);
  });

  it('notices any single changed digit', () => {
    // MOD 11-2 catches every single-digit error, so no changed number passes, whatever its date.
    const id = '11010519491231002X';
    for (let i = 0; i < 17; i += 1) {
      const changed = id.slice(0, i) + String((Number(id[i]) + 1) % 10) + id.slice(i + 1);
      expect(isValidIdNumber(changed)).toBe(false);
    }
  });

  it('refuses to compute from anything but 17 digits', () => {
    expect(() => idNumberCheckDigit('1101051949123100')).toThrow(RangeError);
    expect(() => idNumberCheckDigit('1101051949123100A')).toThrow(RangeError);
  });
});

import { describe, expect, it } from 'vitest';
import { findUnsafeCharacter, isUnsafeCodePoint, neutralizeLayout, neutralizeText } from './display-safe-text.ts';

describe('display-safe text: what a reader is shown cannot steer the terminal or browser', () => {
  it('names every C0 and C1 control, DEL, the Unicode separators and the bidirectional controls, and nothing else', () => {
    const unsafe = [0x00, 0x07, 0x09, 0x0a, 0x0d, 0x1b, 0x1f, 0x7f, 0x80, 0x85, 0x9b, 0x9f, 0x2028, 0x2029, 0x202a, 0x202e, 0x2066, 0x2069];
    for (const codePoint of unsafe) expect(isUnsafeCodePoint(codePoint), codePoint.toString(16)).toBe(true);
    // Ordinary text of every script, spaces, CJK punctuation, emoji with a joiner, the bidi marks LRM/RLM (not overrides).
    for (const text of [' ', 'A', '~', '\u00a0', '《社会保险法》第七十三条', 'Art. 6(1)(e)', '👩‍⚕️', '\u200e', '\u202f', '\u2065', '\u206a']) {
      expect(findUnsafeCharacter(text), JSON.stringify(text)).toBeUndefined();
    }
  });

  it('finds the first one with its position in characters (not UTF-16 units) and its U+ name', () => {
    expect(findUnsafeCharacter('Art. 11\u001b[8m Person.gender')).toEqual({ position: 7, codePoint: 'U+001B' });
    expect(findUnsafeCharacter('𝐀\u202eabc')).toEqual({ position: 1, codePoint: 'U+202E' });
    expect(findUnsafeCharacter('one\nline')).toEqual({ position: 3, codePoint: 'U+000A' });
    expect(findUnsafeCharacter('\u009b31m')).toEqual({ position: 0, codePoint: 'U+009B' });
  });

  it('neutralizes a value to inert \\uXXXX, line breaks included, and leaves clean text as it is', () => {
    expect(neutralizeText('basis\u001b[8m\nfields:\u202e')).toBe('basis\\u001b[8m\\u000afields:\\u202e');
    expect(neutralizeText('《社会保险法》第七十三条')).toBe('《社会保险法》第七十三条');
    expect(neutralizeText('a\u0085b\u2066c')).not.toMatch(/[\u0085\u2066]/u);
  });

  it('keeps a layout’s own line breaks and tabs, and keeps JSON the same value', () => {
    expect(neutralizeLayout('a\tb\r\nc\u001b[2J')).toBe('a\tb\r\nc\\u001b[2J');
    const value = { text: 'x\u202ey\u0085z\u2028\u001b' };
    const printed = neutralizeLayout(JSON.stringify(value));
    expect(printed).not.toMatch(/[\u202e\u0085\u2028\u001b]/u);
    expect(JSON.parse(printed)).toEqual(value);
  });
});

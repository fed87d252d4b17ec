/**
 * Text that a person will read must say what it says: no terminal escape
 * sequences that hide or repaint what follows (`ESC [ 8 m` hides the rest of
 * a line), no bidirectional overrides that reorder it (`U+202E` prints
 * `exe.txt` as `txt.exe`), no line breaks that forge a line of their own.
 * Inputs refuse such characters ({@link findUnsafeCharacter}); every place
 * that shows stored text neutralizes them ({@link neutralizeText}), so rows
 * stored before the rule cannot steer a reader either. Pure.
 */

/**
 * True for a code point that steers how text is shown instead of being text:
 * C0 controls (U+0000–U+001F, line breaks and tabs included: a line break in
 * a legal basis could forge the next line of `agreements show`), DEL, C1
 * controls (U+0080–U+009F, among them the one-byte CSI U+009B), the line and
 * paragraph separators U+2028/U+2029, and the bidirectional embeddings,
 * overrides and isolates U+202A–U+202E and U+2066–U+2069.
 */
export function isUnsafeCodePoint(codePoint: number): boolean {
  return (
    codePoint <= 0x1f ||
    (codePoint >= 0x7f && codePoint <= 0x9f) ||
    codePoint === 0x2028 ||
    codePoint === 0x2029 ||
    (codePoint >= 0x202a && codePoint <= 0x202e) ||
    (codePoint >= 0x2066 && codePoint <= 0x2069)
  );
}

// The same set as isUnsafeCodePoint, as one pattern (global: for replaceAll).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;
// What a page may keep: its own line breaks and tabs are layout, not text a person typed.
const UNSAFE_IN_LAYOUT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/** Where the first unsafe character of a text is: its 0-based position (in code points) and `U+XXXX`. */
export interface UnsafeCharacter {
  readonly position: number;
  readonly codePoint: string;
}

/**
 * The first character of `text` that {@link isUnsafeCodePoint} refuses, or
 * `undefined` when there is none.
 *
 * @example
 * findUnsafeCharacter('Art. 11\u001b[8m Person.gender'); // { position: 7, codePoint: 'U+001B' }
 */
export function findUnsafeCharacter(text: string): UnsafeCharacter | undefined {
  let position = 0;
  for (const character of text) {
    const codePoint = character.codePointAt(0) ?? 0;
    if (isUnsafeCodePoint(codePoint)) return { position, codePoint: codePointName(codePoint) };
    position += 1;
  }
  return undefined;
}

/**
 * `text` with every unsafe character written as a visible, inert `\uXXXX`
 * (six ASCII characters): the reader sees that something was there and
 * what, and no terminal or browser acts on it. Text without such characters
 * is returned as it is. For one value, laid out by the caller.
 *
 * @example
 * neutralizeText('basis\u001b[8m'); // 'basis\\u001b[8m', shown as basis\u001b[8m
 */
export function neutralizeText(text: string): string {
  return text.replace(UNSAFE, escapeOf);
}

/**
 * Like {@link neutralizeText}, but keeps line feeds, carriage returns and
 * tabs: for a whole page, report or stream whose own layout uses them.
 * JSON text stays the same JSON value: `JSON.stringify` already escapes C0
 * controls inside strings and leaves C1, U+2028/U+2029 and bidirectional
 * controls raw, and those become the `\uXXXX` escapes JSON reads back as the
 * same characters.
 */
export function neutralizeLayout(text: string): string {
  return text.replace(UNSAFE_IN_LAYOUT, escapeOf);
}

function escapeOf(character: string): string {
  return `\\u${(character.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`;
}

function codePointName(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

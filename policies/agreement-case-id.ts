import type { Agreement } from './agreement.ts';
import { badInput, type LifecycleRefusal } from './lifecycle-refusal.ts';

/**
 * The `caseId` term of an agreement: reads under it must name the case file
 * they serve, and the case id may have to follow a format the data officer
 * can read. Checking the term at submission (`checkCaseIdTerm`) and testing a
 * request's case id against it (`caseIdMatches`) live here. Pure.
 */

/** Longest format accepted: a file-number pattern an officer reads at a glance, not a program. */
export const MAX_CASE_ID_FORMAT_LENGTH = 128;
/** Largest count a `{n}` / `{n,m}` may name: case ids are at most 64 characters (request-purpose.ts). */
export const MAX_CASE_ID_REPEAT = 64;

/** What may appear as a plain literal: the characters case ids hold, and spaces are not among them. */
const LITERAL = /^[A-Za-z0-9_:/\-\u4e00-\u9fff]$/u;
/** Escapes that stand for one character of a known set, or an escaped punctuation literal. */
const ESCAPES = new Set(['d', 'D', 'w', 'W', '.', '-', '/', ':', '_', '\\', '(', ')', '[', ']', '{', '}', '?', '+', '*', '|', '^', '$']);

/**
 * Checks an agreement's `caseId` term, if it has one: `{ required: true }`,
 * with an optional `format` that is anchored (`^…$`), at most
 * {@link MAX_CASE_ID_FORMAT_LENGTH} characters, and of a grammar that cannot
 * backtrack catastrophically: no quantifier on a group (the nested
 * quantifiers of `^(a+)+$`), no back-references or look-arounds, no
 * alternation outside a group (it would undo the anchors).
 *
 * @example
 * ```ts
 * checkCaseIdTerm({ required: true, format: '^GA-\\d{4}-\\d{6}$' }); // undefined
 * checkCaseIdTerm({ required: true, format: '^(\\d+)+$' });
 * // { ok: false, code: 'BAD_USER_INPUT', field: 'caseId.format', message: '… a quantifier may not follow a group …' }
 * ```
 */
export function checkCaseIdTerm(term: Agreement['caseId'] | unknown): LifecycleRefusal | undefined {
  if (term === undefined) return undefined;
  if (typeof term !== 'object' || term === null || Array.isArray(term)) return badInput('caseId', 'caseId must be { required: true, format? }');
  const { required, format } = term as { readonly required?: unknown; readonly format?: unknown };
  if (required !== true) return badInput('caseId.required', 'caseId.required must be true: leave caseId out when reads need no case id');
  if (format === undefined) return undefined;
  if (typeof format !== 'string' || format.length === 0) return badInput('caseId.format', 'caseId.format must be a pattern, e.g. ^GA-\\d{4}-\\d{6}$');
  if (format.length > MAX_CASE_ID_FORMAT_LENGTH) return badInput('caseId.format', `caseId.format may be at most ${MAX_CASE_ID_FORMAT_LENGTH} characters`);
  const problem = formatProblem(format);
  if (problem) return badInput('caseId.format', `caseId.format ${problem}`);
  return undefined;
}

/** Compiled formats, once per format text: a decision tests case ids on the hot path. */
const compiled = new Map<string, RegExp | null>();

/**
 * Whether `caseId` satisfies the agreement's format (any case id does when
 * it names none). A stored format that does not compile, or was never
 * checked, matches nothing: an agreement that cannot be tested releases
 * nothing.
 */
export function caseIdMatches(format: string | undefined, caseId: string): boolean {
  if (format === undefined) return true;
  let pattern = compiled.get(format);
  if (pattern === undefined) {
    pattern = typeof format === 'string' && formatProblem(format) === undefined ? tryCompile(format) : null;
    // Formats come from stored agreements, so the map is bounded by the store.
    compiled.set(format, pattern);
  }
  return pattern !== null && pattern.test(caseId);
}

function tryCompile(format: string): RegExp | null {
  try {
    return new RegExp(format, 'u');
  } catch {
    return null;
  }
}

/** Why a format is refused, in words for the requester, or `undefined` when it is of the safe grammar. */
function formatProblem(format: string): string | undefined {
  if (!format.startsWith('^') || !format.endsWith('$') || format.endsWith('\\$') || format.length < 3) {
    return 'must be anchored: start with ^ and end with $';
  }
  const body = format.slice(1, -1);
  let depth = 0;
  // What the last item was: a quantifier may follow only a single atom.
  let last: 'none' | 'atom' | 'group' | 'quantified' = 'none';
  for (let index = 0; index < body.length; index++) {
    const character = body[index]!;
    if (character === '\\') {
      const next = body[index + 1];
      if (next === undefined || !ESCAPES.has(next)) return 'may use only the escapes \\d \\D \\w \\W and escaped punctuation';
      index++;
      last = 'atom';
    } else if (character === '[') {
      const end = classEnd(body, index);
      if (end === undefined) return 'has a character class [...] that is not closed, or holds [ or an escape other than \\d \\w \\- \\] \\\\';
      index = end;
      last = 'atom';
    } else if (character === '(') {
      if (body[index + 1] === '?') {
        if (body[index + 2] !== ':') return 'may not use look-arounds or named groups: only (...) and (?:...)';
        index += 2;
      }
      depth++;
      last = 'none';
    } else if (character === ')') {
      if (depth === 0) return 'has a ) without its (';
      depth--;
      last = 'group';
    } else if (character === '|') {
      if (depth === 0) return 'may use | only inside a group, e.g. ^(?:GA|MZ)-\\d{6}$, so that the anchors hold for every alternative';
      last = 'none';
    } else if (character === '?' || character === '+' || character === '*' || character === '{') {
      if (character === '{') {
        const match = /^\{(\d{1,3})(?:,(\d{1,3})?)?\}/.exec(body.slice(index));
        if (!match) return 'has a { that is not a count {n}, {n,} or {n,m}';
        const low = Number(match[1]);
        const high = match[2] === undefined ? low : Number(match[2]);
        if (low > MAX_CASE_ID_REPEAT || high > MAX_CASE_ID_REPEAT || high < low) return `may repeat at most ${MAX_CASE_ID_REPEAT} times, with {n,m} where n ≤ m`;
        index += match[0].length - 1;
      }
      if (last === 'group') return 'may not put a quantifier after a group: nested quantifiers such as ^(a+)+$ can backtrack without end';
      if (last !== 'atom') return 'has a quantifier with nothing to repeat, or two in a row';
      last = 'quantified';
    } else if (character === '.' ) {
      last = 'atom';
    } else if (character === '^' || character === '$') {
      return 'may use ^ and $ only at its start and end';
    } else if (LITERAL.test(character)) {
      last = 'atom';
    } else {
      return `may not hold the character ${JSON.stringify(character)}: letters, digits, _ : / - and the pattern signs only`;
    }
  }
  if (depth !== 0) return 'has a ( without its )';
  return tryCompile(format) === null ? 'is not a valid pattern' : undefined;
}

/** The index of the `]` closing the class that opens at `start`, if the class is of the plain kind. */
function classEnd(body: string, start: number): number | undefined {
  let index = start + 1;
  if (body[index] === '^') index++;
  for (; index < body.length; index++) {
    const character = body[index]!;
    if (character === ']' && index > start + 1) return index;
    if (character === '[') return undefined;
    if (character === '\\') {
      if (!['d', 'w', '-', ']', '\\'].includes(body[index + 1] ?? '')) return undefined;
      index++;
    }
  }
  return undefined;
}

import type { Agreement } from './agreement.ts';
import { MASK_KINDS, type Catalogue } from './catalogue.ts';
import { findUnsafeCharacter } from './display-safe-text.ts';
import { checkCaseIdTerm } from './agreement-case-id.ts';
import { badInput, type LifecycleRefusal } from './lifecycle-refusal.ts';
import { checkQuota } from './agreement-quota.ts';
import { checkOperationsTerm } from './agreement-operations.ts';

/**
 * The terms an agreement may state, checked as at submission: who reads
 * (the client app), from whom, for what and on what legal basis, which
 * fields with which masks, over which rows, for how long, and any disclosure
 * delay, the documents it pins. Pure; the lifecycle (`agreement-lifecycle.ts`) calls these.
 */

/** Longest validity window an agreement may ask for: three years (and a leap day). */
export const MAX_VALIDITY_DAYS = 3 * 365 + 1;
/** Longest disclosure delay: an investigation's secrecy is bounded too. */
export const MAX_DISCLOSURE_DELAY_DAYS = 730;
/** Most fields one agreement may name; more is a sign of a bulk copy, not a purpose. */
export const MAX_FIELDS = 200;
/** Shortest written reason, legal basis or disclosure reason accepted (characters, after trimming). */
export const MIN_REASON_LENGTH = 8;
/** Longest free text accepted. */
export const MAX_TEXT_LENGTH = 2_000;
/**
 * Fewest letters or digits a legal basis or reason must hold: `《消防法》第十条`
 * has 6, `ab......` has 2. Punctuation, spaces and symbols do not count.
 */
export const MIN_MEANINGFUL_CHARACTERS = 6;
/**
 * How far before the request was made its window may start: a clock a
 * little behind, not a back-dated approval (an agreement covers reads from
 * its approval on, and a window that claims earlier days misstates that).
 */
export const MAX_BACKDATE_MS = 5 * 60_000;
/** How far ahead of the request a window may start: a data officer decides on a need of this year, not of years ahead. */
export const MAX_START_AHEAD_DAYS = 366;

const DAY_MS = 86_400_000;
const APP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const PURPOSE = /^[a-z][a-z0-9-]{4,79}$/;
const SCOPE = /^[A-Za-z0-9][A-Za-z0-9:._/-]{2,127}$/;
const COORDINATE = /^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/;
/** Words people type when they have nothing to say; a legal basis or reason must say something. */
const PLACEHOLDERS = new Set(['n/a', 'na', 'none', 'nil', 'null', 'tbd', 'todo', 'test', 'testing', 'xxx', 'not applicable', 'no reason', 'see above', '无', '暂无', '测试']);

/** Every term of a request, checked in the order a reader fills the form. */
export function checkTerms(agreement: Agreement, now: Date, catalogue: Catalogue): LifecycleRefusal | undefined {
  const unsafe = checkAllPlain(agreement);
  if (unsafe) return unsafe;
  if (typeof agreement.consumerApp !== 'string' || !APP_ID.test(agreement.consumerApp)) {
    return badInput('consumerApp', 'consumerApp must be the client application id (letters, digits, . _ -, at most 64)');
  }
  const provider = agreement.providerBureau;
  if (typeof provider !== 'string' || !catalogue.bureaus.has(provider)) {
    return badInput('providerBureau', `providerBureau must be a bureau of the catalogue (${[...catalogue.bureaus.keys()].join(', ')})`);
  }
  if (provider === agreement.consumerBureau) return badInput('providerBureau', 'a bureau reads its own data without an agreement: the provider must be another bureau');
  if (typeof agreement.purpose !== 'string' || !PURPOSE.test(agreement.purpose)) {
    return badInput('purpose', 'purpose must name what the data is for, in kebab-case (5–80 characters), e.g. social-assistance-eligibility');
  }
  const legalBasis = checkText('legalBasis', agreement.legalBasis, 'the statute or regulation that allows the sharing');
  if (legalBasis) return legalBasis;

  if (!Array.isArray(agreement.fields) || agreement.fields.length === 0) return badInput('fields', 'fields must list at least one coordinate, e.g. Person.name');
  if (agreement.fields.length > MAX_FIELDS) return badInput('fields', `an agreement names at most ${MAX_FIELDS} fields`);
  const seen = new Set<string>();
  for (const [index, coordinate] of agreement.fields.entries()) {
    const at = `fields[${index}]`;
    if (typeof coordinate !== 'string' || !COORDINATE.test(coordinate)) return badInput(at, 'each field is a coordinate Type.field, e.g. Person.name');
    const field = catalogue.fields.get(coordinate);
    // Named back only once it is the catalogue's: a coordinate the caller made up is not quoted.
    if (!field) return badInput(at, `${at} is not a field of the catalogue`);
    if (seen.has(coordinate)) return badInput(at, `${coordinate} is listed twice`);
    seen.add(coordinate);
    if (field.bureau !== provider) return badInput(at, `${coordinate} is provided by '${field.bureau}', not by '${provider}'`);
    if (field.category === 'NONE') return badInput(at, `${coordinate} is of sharing category NONE (不予共享) and never leaves '${provider}'`);
  }

  if (typeof agreement.masks !== 'object' || agreement.masks === null || Array.isArray(agreement.masks)) return badInput('masks', 'masks must map coordinates to mask kinds');
  for (const [coordinate, mask] of Object.entries(agreement.masks)) {
    if (!seen.has(coordinate)) return badInput(`masks.${coordinate}`, `a mask may be set only for a requested field; ${coordinate} is not requested`);
    if (!MASK_KINDS.includes(mask)) return badInput(`masks.${coordinate}`, `the mask must be one of ${MASK_KINDS.join(', ')}`);
  }
  if (agreement.rowScope !== 'ANY' && agreement.rowScope !== 'SELF') return badInput('rowScope', 'rowScope must be ANY or SELF');
  if (typeof agreement.scope !== 'string' || !SCOPE.test(agreement.scope)) {
    return badInput('scope', 'scope must be 3–128 characters of letters, digits and : . _ / -');
  }

  const from = typeof agreement.validFrom === 'string' ? Date.parse(agreement.validFrom) : Number.NaN;
  const until = typeof agreement.validUntil === 'string' ? Date.parse(agreement.validUntil) : Number.NaN;
  if (!Number.isFinite(from)) return badInput('validFrom', 'validFrom must be an ISO 8601 instant, e.g. 2026-01-01T00:00:00Z');
  if (!Number.isFinite(until)) return badInput('validUntil', 'validUntil must be an ISO 8601 instant, e.g. 2027-01-01T00:00:00Z');
  if (from >= until) return badInput('validUntil', 'validUntil must be after validFrom');
  if (until - from > MAX_VALIDITY_DAYS * DAY_MS) return badInput('validUntil', `the validity window may be at most ${MAX_VALIDITY_DAYS} days (three years)`);
  if (until <= now.getTime()) return badInput('validUntil', 'the validity window has already ended');
  // Measured from when the request was made (a draft submitted or approved later keeps its terms): what the requester stated then.
  const made = Date.parse(agreement.createdAt);
  const asked = Number.isFinite(made) ? made : now.getTime();
  if (from < asked - MAX_BACKDATE_MS) {
    return badInput('validFrom', 'validFrom may not be before the request is made: an agreement covers reads from its approval on, so a window cannot start in the past');
  }
  if (from > asked + MAX_START_AHEAD_DAYS * DAY_MS) {
    return badInput('validFrom', `validFrom may be at most ${MAX_START_AHEAD_DAYS} days (one year) after the request is made: request it when the need is near`);
  }

  const delay = agreement.disclosureDelay;
  if (delay !== undefined) {
    if (typeof delay !== 'object' || delay === null) return badInput('disclosureDelay', 'disclosureDelay must be { days, legalReason }');
    if (!Number.isInteger(delay.days) || delay.days < 1 || delay.days > MAX_DISCLOSURE_DELAY_DAYS) {
      return badInput('disclosureDelay.days', `disclosureDelay.days must be a whole number from 1 to ${MAX_DISCLOSURE_DELAY_DAYS}`);
    }
    const reason = checkText('disclosureDelay.legalReason', delay.legalReason, 'the legal reason the data subject may not be told yet');
    if (reason) return reason;
  }
  return checkQuota(agreement.quota) ?? checkCaseIdTerm(agreement.caseId) ?? checkOperationsTerm(agreement.operations);
}

/**
 * Free text that must say something: not empty, not a placeholder, not a
 * wall, no control characters, and real words: at least
 * {@link MIN_MEANINGFUL_CHARACTERS} letters or digits (three of them
 * different, two letters), and letters and digits at least half of what is
 * not a space, so `ab......` or `-- . -- . --` is not a legal basis.
 */
export function checkText(field: string, value: unknown, what: string): LifecycleRefusal | undefined {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text.length === 0) return badInput(field, `${field} is required: ${what}`);
  const unsafe = checkPlain(field, text);
  if (unsafe) return unsafe;
  if (text.length > MAX_TEXT_LENGTH) return badInput(field, `${field} may be at most ${MAX_TEXT_LENGTH} characters`);
  const meaningful = text.match(/[\p{L}\p{N}]/gu) ?? [];
  const printed = text.replace(/\s/gu, '').length;
  if (
    text.length < MIN_REASON_LENGTH ||
    PLACEHOLDERS.has(text.toLowerCase()) ||
    (text.match(/\p{L}/gu)?.length ?? 0) < 2 ||
    meaningful.length < MIN_MEANINGFUL_CHARACTERS ||
    new Set(meaningful.map((character) => character.toLowerCase())).size < 3 ||
    meaningful.length * 2 < printed
  ) {
    return badInput(
      field,
      `${field} must state ${what} in words: at least ${MIN_REASON_LENGTH} characters, of which at least ${MIN_MEANINGFUL_CHARACTERS} letters or digits, and mostly letters and digits rather than punctuation`,
    );
  }
  return undefined;
}

/**
 * A text a person will read refuses control characters, line breaks, tabs
 * and bidirectional controls (`display-safe-text.ts`), naming the field and
 * the character, never quoting the text.
 */
export function checkPlain(field: string, value: unknown): LifecycleRefusal | undefined {
  if (typeof value !== 'string') return undefined;
  const found = findUnsafeCharacter(value);
  if (!found) return undefined;
  return badInput(
    field,
    `${field} holds a control character (${found.codePoint} at character ${found.position + 1}): terminal escape sequences, bidirectional overrides, tabs and line breaks are refused in agreements; write plain text on one line`,
  );
}

/** Every text term of an agreement, checked for control characters before anything else, so the refusal names the field that holds one. */
function checkAllPlain(agreement: Agreement): LifecycleRefusal | undefined {
  const texts: [string, unknown][] = [
    ['consumerApp', agreement.consumerApp],
    ['providerBureau', agreement.providerBureau],
    ['purpose', agreement.purpose],
    ['legalBasis', agreement.legalBasis],
    ...(Array.isArray(agreement.fields) ? agreement.fields.map((field, index): [string, unknown] => [`fields[${index}]`, field]) : []),
    ...(typeof agreement.masks === 'object' && agreement.masks !== null
      ? Object.entries(agreement.masks).flatMap(([coordinate, mask]): [string, unknown][] => [['masks', coordinate], [`masks.${neutralKey(coordinate)}`, mask]])
      : []),
    ['scope', agreement.scope],
    ['validFrom', agreement.validFrom],
    ['validUntil', agreement.validUntil],
    ['disclosureDelay.legalReason', agreement.disclosureDelay?.legalReason],
  ];
  for (const [field, value] of texts) {
    const refusal = checkPlain(field, value);
    if (refusal) return refusal;
  }
  return undefined;
}

/** A mask's coordinate in a field name: only once it is known to be plain. */
function neutralKey(coordinate: string): string {
  return findUnsafeCharacter(coordinate) ? '?' : coordinate;
}

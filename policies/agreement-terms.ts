import type { Agreement } from './agreement.ts';
import { MASK_KINDS, type Catalogue } from './catalogue.ts';
import { badInput, type LifecycleRefusal } from './lifecycle-refusal.ts';

/**
 * The terms an agreement may state, checked as at submission: who reads
 * (the client app), from whom, for what and on what legal basis, which
 * fields with which masks, over which rows, for how long, and any disclosure
 * delay. Pure; the lifecycle (`agreement-lifecycle.ts`) calls these.
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

const DAY_MS = 86_400_000;
const APP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const PURPOSE = /^[a-z][a-z0-9-]{4,79}$/;
const SCOPE = /^[A-Za-z0-9][A-Za-z0-9:._/-]{2,127}$/;
const COORDINATE = /^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/;
/** Words people type when they have nothing to say; a legal basis or reason must say something. */
const PLACEHOLDERS = new Set(['n/a', 'na', 'none', 'nil', 'null', 'tbd', 'todo', 'test', 'testing', 'xxx', 'not applicable', 'no reason', 'see above', '无', '暂无', '测试']);

/** Every term of a request, checked in the order a reader fills the form. */
export function checkTerms(agreement: Agreement, now: Date, catalogue: Catalogue): LifecycleRefusal | undefined {
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

  const delay = agreement.disclosureDelay;
  if (delay !== undefined) {
    if (typeof delay !== 'object' || delay === null) return badInput('disclosureDelay', 'disclosureDelay must be { days, legalReason }');
    if (!Number.isInteger(delay.days) || delay.days < 1 || delay.days > MAX_DISCLOSURE_DELAY_DAYS) {
      return badInput('disclosureDelay.days', `disclosureDelay.days must be a whole number from 1 to ${MAX_DISCLOSURE_DELAY_DAYS}`);
    }
    const reason = checkText('disclosureDelay.legalReason', delay.legalReason, 'the legal reason the data subject may not be told yet');
    if (reason) return reason;
  }
  return undefined;
}

/** Free text that must say something: not empty, not a placeholder, not a wall. */
export function checkText(field: string, value: unknown, what: string): LifecycleRefusal | undefined {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text.length === 0) return badInput(field, `${field} is required: ${what}`);
  if (text.length > MAX_TEXT_LENGTH) return badInput(field, `${field} may be at most ${MAX_TEXT_LENGTH} characters`);
  if (text.length < MIN_REASON_LENGTH || PLACEHOLDERS.has(text.toLowerCase()) || (text.match(/\p{L}/gu)?.length ?? 0) < 2) {
    return badInput(field, `${field} must state ${what} (at least ${MIN_REASON_LENGTH} characters of real text)`);
  }
  return undefined;
}

import type { MaskKind } from './catalogue.ts';

/**
 * Masks (脱敏): how a released value is cut down before it leaves the gateway.
 * Every mask errs on the side of hiding: input it does not recognise comes
 * back fully redacted, never as it was, and never as an exception.
 */

/** What a string comes back as when it cannot be masked more precisely. */
export const REDACTED = '***';

/** A response path (response keys from the root) whose values get `mask`. */
export interface MaskedPath {
  readonly path: readonly string[];
  readonly mask: MaskKind;
  /**
   * Set when the field sits below an interface or union: only objects whose
   * `__typename` is this type are masked. Objects without `__typename` are
   * masked anyway, so an ambiguity can only over-mask.
   */
  readonly typeName?: string;
}

const MUNICIPALITIES = ['北京市', '上海市', '天津市', '重庆市'];
// The prefixes exclude 市/区/县 so that a 省道 (provincial road) further on
// is not taken for a province.
const PROVINCE = /^[^市区县]{1,7}?(?:省|自治区|特别行政区)/u;
const CITY = /^[^区县]{1,10}?(?:市|自治州|地区|盟)/u;
// County-level cities end in 市 (浙江省嘉兴市海宁市). The bound keeps a
// street-level 区 (a 小区 further on) from being taken for the district.
const DISTRICT = /^.{1,8}?(?:区|县|市|旗)/u;

/**
 * Masks one value. Lists are masked element by element; `null` and
 * `undefined` stay as they are.
 *
 * @example
 * ```ts
 * applyMask('ID_NUMBER', '330402198203151234'); // '330402********1234'
 * applyMask('NAME', '张晓明');                   // '张*明'
 * applyMask('PHONE', '13812345678');            // '138****5678'
 * applyMask('ADDRESS', '浙江省嘉兴市南湖区中山路128号3幢502室'); // '浙江省嘉兴市南湖区'
 * applyMask('DATE_TO_YEAR', '1982-03-15');      // '1982'
 * applyMask('REDACT', 42);                      // null
 * ```
 */
export function applyMask(kind: MaskKind, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (Array.isArray(value)) return value.map((element) => applyMask(kind, element));
  // Only strings carry masked text; any other value (a number, an object
  // where a scalar was expected) is withheld whole.
  if (typeof value !== 'string') return null;
  switch (kind) {
    case 'ID_NUMBER':
      return keepEnds(value, 6, 4);
    case 'NAME':
      return maskName(value);
    case 'PHONE':
      return maskPhone(value);
    case 'ADDRESS':
      return maskAddress(value);
    case 'DATE_TO_YEAR':
      return /^\d{4}(?:$|[-/.年])/u.test(value) ? value.slice(0, 4) : REDACTED;
    case 'REDACT':
      return REDACTED;
    default:
      return REDACTED;
  }
}

/**
 * Applies masks to a GraphQL `data` object at response-key paths, descending
 * through lists. Returns a new object where something changed and the same
 * one where nothing did; the input is never mutated.
 *
 * @example
 * ```ts
 * maskResult({ people: [{ name: '张晓明' }, null] }, [{ path: ['people', 'name'], mask: 'NAME' }]);
 * // { people: [{ name: '张*明' }, null] }
 * ```
 */
export function maskResult<T>(data: T, maskedPaths: readonly MaskedPath[]): T {
  let result: unknown = data;
  for (const masked of maskedPaths) {
    if (masked.path.length === 0) continue;
    result = maskAt(result, masked, 0);
  }
  return result as T;
}

function maskAt(value: unknown, masked: MaskedPath, index: number): unknown {
  if (Array.isArray(value)) {
    let changed = false;
    const next = value.map((element) => {
      const masked_ = maskAt(element, masked, index);
      if (masked_ !== element) changed = true;
      return masked_;
    });
    return changed ? next : value;
  }
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Readonly<Record<string, unknown>>;
  const key = masked.path[index]!;
  if (!Object.hasOwn(record, key)) return value;
  const last = index === masked.path.length - 1;
  if (last && masked.typeName !== undefined && typeof record.__typename === 'string' && record.__typename !== masked.typeName) {
    return value;
  }
  const before = record[key];
  const after = last ? applyMask(masked.mask, before) : maskAt(before, masked, index + 1);
  return Object.is(after, before) ? value : { ...record, [key]: after };
}

/** Keeps `head` leading and `tail` trailing characters; too short to keep anything → fully redacted. */
function keepEnds(value: string, head: number, tail: number): string {
  const characters = Array.from(value);
  if (characters.length <= head + tail) return REDACTED;
  return characters.slice(0, head).join('') + '*'.repeat(characters.length - head - tail) + characters.slice(-tail).join('');
}

function maskName(value: string): string {
  const characters = Array.from(value.trim());
  if (characters.length === 0) return value === '' ? '' : REDACTED;
  if (characters.length === 1) return '*';
  if (characters.length === 2) return `${characters[0]}*`;
  return characters[0] + '*'.repeat(characters.length - 2) + characters[characters.length - 1];
}

function maskPhone(value: string): string {
  if (!/^[+\d\s()-]+$/u.test(value)) return REDACTED;
  let digits = value.replace(/\D/gu, '');
  // A mobile number written with the country code: mask the number itself.
  if (digits.length === 13 && digits.startsWith('86')) digits = digits.slice(2);
  if (digits.length < 8) return REDACTED;
  return keepEnds(digits, 3, 4);
}

function maskAddress(value: string): string {
  const text = value.trim();
  let rest = text;
  let kept = '';
  const take = (pattern: RegExp): boolean => {
    const match = pattern.exec(rest);
    if (!match) return false;
    kept += match[0];
    rest = rest.slice(match[0].length);
    return true;
  };
  const municipality = MUNICIPALITIES.find((name) => text.startsWith(name));
  if (municipality) {
    kept = municipality;
    rest = text.slice(municipality.length);
    // 直辖市 have districts directly, sometimes after a 市辖区 placeholder.
    if (rest.startsWith('市辖区')) rest = rest.slice('市辖区'.length);
    return take(/^.{1,8}?(?:区|县)/u) ? kept : municipality;
  }
  const province = take(PROVINCE);
  const city = take(CITY);
  if (!city) return province ? kept : REDACTED;
  take(DISTRICT);
  return kept;
}

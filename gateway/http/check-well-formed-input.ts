import { ApiError } from '../errors/api-error.ts';
import { isNameLike } from './only-known-names.ts';

/** How deep a JSON body may nest: an agreement request is three levels deep, and the check below must not run out of stack. */
export const MAX_INPUT_DEPTH = 16;

/**
 * Refuses text that PostgreSQL cannot store faithfully — a NUL character
 * (text refuses it), a lone UTF-16 surrogate (jsonb refuses it, and text
 * would silently store U+FFFD instead) — anywhere in a value: a query or
 * path parameter, or a parsed JSON body with every property name and value.
 * The edge of every JSON API calls it once, so no route's own checks have
 * to remember it. The refusal names the field and never quotes the text.
 *
 * @throws ApiError `BAD_USER_INPUT` with `field` (`legalBasis`, `fields[1]`, `draft.legalBasis`).
 * @example
 * checkWellFormedInput(JSON.parse(text), '');
 * checkWellFormedInput(c.req.param('id'), 'id');
 */
export function checkWellFormedInput(value: unknown, field: string): void {
  // An explicit stack, not recursion: a 64 KiB body can nest thousands deep.
  const pending: [unknown, string, number][] = [[value, field, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, at, depth] = next;
    if (typeof item === 'string') {
      if (!isWellFormedText(item)) throw new ApiError('BAD_USER_INPUT', `${at || 'the body'} must be text without NUL characters or unpaired UTF-16 surrogates`, { field: at || 'body' });
      continue;
    }
    if (typeof item !== 'object' || item === null) continue;
    if (depth >= MAX_INPUT_DEPTH) throw new ApiError('BAD_USER_INPUT', `${at || 'the body'} is nested more than ${MAX_INPUT_DEPTH} levels deep`, { field: at || 'body' });
    if (Array.isArray(item)) {
      item.forEach((element, index) => pending.push([element, `${at}[${index}]`, depth + 1]));
      continue;
    }
    for (const [key, element] of Object.entries(item)) {
      const name = isNameLike(key) ? (at ? `${at}.${key}` : key) : at || 'body';
      if (!isWellFormedText(key)) throw new ApiError('BAD_USER_INPUT', `a property name in ${at || 'the body'} has NUL characters or unpaired UTF-16 surrogates`, { field: at || 'body' });
      pending.push([element, name, depth + 1]);
    }
  }
}

/** Text PostgreSQL stores as it is: well-formed UTF-16 and no NUL. */
export function isWellFormedText(text: string): boolean {
  return text.isWellFormed() && !text.includes('\u0000');
}

import { ApiError } from '../errors/api-error.ts';

/** A name is quoted back only if it looks like one (`legalBasis`, `Person.address`); anything else a caller sent is not. */
const NAME_LIKE = /^[A-Za-z_$][\w$.-]{0,63}$/;

/** True for a property or parameter name that may be shown as the field at fault. */
export function isNameLike(name: string): boolean {
  return NAME_LIKE.test(name);
}

/** Where the names are: nested under a body property (`draft`), or at the top of the query or body. */
export type NamesAt = { readonly within: string } | { readonly top: 'query' | 'body' };

/**
 * Refuses a query parameter or body property this route does not take:
 * a typo must not silently widen a search or drop a term of a request.
 *
 * @throws ApiError `BAD_USER_INPUT` whose `field` is the unknown name (or, if it does not look like a name, what holds it).
 * @example
 * onlyKnownNames(c.req.query(), ['status', 'limit', 'cursor'], { top: 'query' });
 * onlyKnownNames(body.draft, ['legalBasis', 'validUntil'], { within: 'draft' });
 */
export function onlyKnownNames(value: Readonly<Record<string, unknown>>, names: readonly string[], at: NamesAt): void {
  for (const key of Object.keys(value)) {
    if (names.includes(key)) continue;
    const within = 'within' in at ? at.within : undefined;
    const field = isNameLike(key) ? (within ? `${within}.${key}` : key) : (within ?? ('top' in at ? at.top : 'body'));
    throw new ApiError('BAD_USER_INPUT', `${isNameLike(key) ? `unknown property '${key}'` : 'an unknown property'}${within ? ` in ${within}` : ''}; expected ${names.join(', ')}`, { field });
  }
}

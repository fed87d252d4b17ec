import type { Principal, RequestPurpose } from './principal.ts';

/**
 * Why a request reads data: the rules for its purpose and case id, in one
 * place, so that `/graphql` and `explain` accept and refuse exactly the same
 * values.
 */

/** The header a request states its purpose in. */
export const PURPOSE_HEADER = 'x-isthmus-purpose';
/** The header a request names its case file number in, when it serves a citizen's application. */
export const CASE_ID_HEADER = 'x-isthmus-case-id';

/** A purpose is a code agreements name (`minimum-living-allowance-review`), not prose. */
const PURPOSE_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Case file numbers as bureaus write them (`MZ-2026-00123`, `JX/2026:17`). */
const CASE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;

/**
 * What the request itself states, beside the token's claims: the headers'
 * values (`null` or `undefined` when absent), or for `explain` the body's
 * `purpose` where it gives one.
 */
export interface StatedPurpose {
  readonly purpose?: string | null;
  readonly caseId?: string | null;
}

/** A purpose or case id that is not one. The message names the header, never the value (it may be anything a client typed). */
export interface PurposeProblem {
  readonly code: 'BAD_USER_INPUT';
  /**
   * `PURPOSE_INVALID`, `CASE_ID_INVALID`: not a code or file number.
   * `PURPOSE_CONFLICT`, `CASE_ID_CONFLICT`: the request states one the token's issuer did not: the issuer's claim wins, and a header that disagrees is refused.
   */
  readonly reason: 'PURPOSE_INVALID' | 'CASE_ID_INVALID' | 'PURPOSE_CONFLICT' | 'CASE_ID_CONFLICT';
  readonly field: 'purpose' | 'caseId';
  readonly message: string;
}

/**
 * The request's purpose and case id. The token's claims come from the
 * identity provider and win: a header may repeat a claim, and is refused
 * when it disagrees with it (`PURPOSE_CONFLICT`, `CASE_ID_CONFLICT`); a
 * header alone, where the token carries no such claim, states it. Each must
 * match its pattern, wherever it came from. Pure and total.
 *
 * @example
 * ```ts
 * resolvePurpose({ purpose: request.headers.get(PURPOSE_HEADER), caseId: request.headers.get(CASE_ID_HEADER) }, principal);
 * // { ok: true, purpose: { purpose: 'business-licensing' } }
 * resolvePurpose({ purpose: 'tax-review' }, { purpose: 'business-licensing' });
 * // { ok: false, problem: { code: 'BAD_USER_INPUT', reason: 'PURPOSE_CONFLICT', field: 'purpose', … } }
 * resolvePurpose({ purpose: 'Business Licensing' }, principal);
 * // { ok: false, problem: { code: 'BAD_USER_INPUT', reason: 'PURPOSE_INVALID', field: 'purpose', message: 'x-isthmus-purpose must be …' } }
 * ```
 */
export function resolvePurpose(
  stated: StatedPurpose,
  principal: Pick<Principal, 'purpose' | 'caseId'>,
): { readonly ok: true; readonly purpose: RequestPurpose } | { readonly ok: false; readonly problem: PurposeProblem } {
  if (principal.purpose !== undefined && stated.purpose != null && stated.purpose !== principal.purpose) {
    return problem('PURPOSE_CONFLICT', 'purpose', `${PURPOSE_HEADER} disagrees with the purpose the token's issuer states: the token's purpose stands; send the same one or none.`);
  }
  if (principal.caseId !== undefined && stated.caseId != null && stated.caseId !== principal.caseId) {
    return problem('CASE_ID_CONFLICT', 'caseId', `${CASE_ID_HEADER} disagrees with the case id the token's issuer states: the token's case id stands; send the same one or none.`);
  }
  const purpose = principal.purpose ?? stated.purpose ?? undefined;
  const caseId = principal.caseId ?? stated.caseId ?? undefined;
  if (purpose !== undefined && !PURPOSE_PATTERN.test(purpose)) {
    return problem('PURPOSE_INVALID', 'purpose', `${PURPOSE_HEADER} must be a purpose code: lower-case letters, digits, '.', '_' or '-', at most 64.`);
  }
  if (caseId !== undefined && !CASE_ID_PATTERN.test(caseId)) {
    return problem('CASE_ID_INVALID', 'caseId', `${CASE_ID_HEADER} must be a case file number of at most 64 letters, digits and . _ : / -.`);
  }
  return { ok: true, purpose: { ...(purpose !== undefined ? { purpose } : {}), ...(caseId !== undefined ? { caseId } : {}) } };
}

function problem(reason: PurposeProblem['reason'], field: PurposeProblem['field'], message: string): { readonly ok: false; readonly problem: PurposeProblem } {
  return { ok: false, problem: { code: 'BAD_USER_INPUT', reason, field, message } };
}

import type { Principal } from '../../policies/principal.ts';
import { ApiError } from '../errors/api-error.ts';
import { answerOf, isErrorCode } from '../errors/error-table.ts';

/** How a JSON API verifies a request's credentials: a principal, undefined for no usable token, or a rejection with an auth error. */
export type Authenticate = (request: Request) => Promise<Principal | undefined>;

/**
 * The caller of a JSON API route, or its refusal: an auth error keeps its
 * code (`TOKEN_EXPIRED` → 401 `UNAUTHENTICATED` with that `reason`;
 * `KEYS_UNAVAILABLE` → 503 with `retry-after`) and its message, which
 * `gateway/auth` writes for the token's holder and never quotes the token
 * in. Any other failure is a fault of ours and stays as it is (a 500).
 *
 * @example
 * const principal = await authenticateCaller(deps.authenticate, c.req.raw);
 */
export async function authenticateCaller(authenticate: Authenticate, request: Request): Promise<Principal> {
  let principal: Principal | undefined;
  try {
    principal = await authenticate(request);
  } catch (error) {
    // By code, not class: what matters is the contract of gateway/auth's errors, which stand-ins honour too.
    const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
    if (error instanceof Error && isErrorCode(code) && answerOf(code).code === 'UNAUTHENTICATED') {
      const retryAfterSeconds = 'retryAfterSeconds' in error && typeof error.retryAfterSeconds === 'number' ? error.retryAfterSeconds : undefined;
      throw new ApiError(code, error.message, { cause: error, ...(retryAfterSeconds !== undefined && { retryAfterSeconds }) });
    }
    throw error;
  }
  if (principal === undefined) throw new ApiError('TOKEN_MISSING', 'a valid bearer token is required');
  return principal;
}

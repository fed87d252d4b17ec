import type { Plugin } from 'graphql-yoga';
import { authenticateRequest } from '../auth/authenticate-request.ts';
import { isAuthError } from '../auth/auth-error.ts';
import type { TokenVerifier } from '../auth/verify-token.ts';
import type { Principal } from '../../policies/principal.ts';
import type { GatewayContext } from './gateway-context.ts';
import { requestError, withRetryAfter } from './error-codes.ts';
import { answerOf } from '../errors/error-table.ts';
import { INTERNAL_MESSAGE } from '../errors/to-api-error.ts';

// Weak: an entry lives as long as its request, whatever becomes of the request.
const principals = new WeakMap<Request, Principal>();

/**
 * The principal {@link useAuthentication} resolved for `request`, for the
 * stages that run before yoga builds the context (the trusted operations'
 * `onParams`, which must know the app before the document is parsed).
 */
export function principalOfRequest(request: Request): Principal | undefined {
  return principals.get(request);
}

/**
 * Resolves the caller's identity once per request, before the request body
 * is even parsed: an unauthenticated caller gets a 401 and learns nothing
 * about the schema. The principal is handed to the operation's context when
 * yoga builds it (`extendContext`), keyed meanwhile by the request itself.
 *
 * The reason is one a developer can act on (expired, wrong audience, unknown
 * issuer, bad signature); the token is never echoed. When the issuer's keys
 * cannot be fetched, the answer is 503: the token may well be good.
 */
export function useAuthentication(verifier: TokenVerifier): Plugin<GatewayContext> {
  return {
    async onRequestParse({ request }) {
      try {
        principals.set(request, await authenticateRequest(request.headers, verifier, request.signal));
      } catch (error) {
        if (!isAuthError(error)) throw error;
        // The table answers each failure: 401 with a challenge, or 503 with retry-after while the issuer's keys are away
        // (when the error knows how long — a JWKS cooldown — its own retry-after).
        // A 500 (an issuer whose configuration cannot work) says nothing but its request id; the operator has the log and /readyz.
        const message = answerOf(error.code).status === 500 ? INTERNAL_MESSAGE : error.message;
        throw withRetryAfter(requestError(error.code, message), error.retryAfterSeconds);
      }
    },
    onContextBuilding({ context, extendContext }) {
      const principal = principals.get(context.request);
      if (principal) extendContext({ principal });
    },
  };
}

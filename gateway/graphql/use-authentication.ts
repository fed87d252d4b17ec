import type { Plugin } from 'graphql-yoga';
import { authenticateRequest } from '../auth/authenticate-request.ts';
import { isAuthError } from '../auth/auth-error.ts';
import type { TokenVerifier } from '../auth/verify-token.ts';
import { THROTTLED_MESSAGE, type AuthThrottle } from '../auth/auth-throttle.ts';
import { countsAsFailure } from '../auth/throttled-failure.ts';
import type { Principal } from '../../policies/principal.ts';
import type { GatewayContext, GatewayServerContext } from './gateway-context.ts';
import { requestError, withRetryAfter } from './error-codes.ts';
import { answerOf } from '../errors/error-table.ts';
import { INTERNAL_MESSAGE } from '../errors/to-api-error.ts';
import { failSpan, startChildSpan } from '../observability/tracing.ts';

/**
 * Resolves the caller's identity once per request, before the request body
 * is even parsed: an unauthenticated caller gets a 401 and learns nothing
 * about the schema. The principal is handed to the operation's context when
 * yoga builds it (`extendContext`), keyed meanwhile by the request itself.
 *
 * The reason is one a developer can act on (expired, wrong audience, unknown
 * issuer, bad signature); the token is never echoed. When the issuer's keys
 * cannot be fetched, the answer is 503: the token may well be good.
 *
 * With a `throttle`, a client address that kept failing is refused (429
 * `AUTH_THROTTLED` with `retry-after`) before its token is even read, a good
 * token too; each failure of a presented token counts against its address.
 */
export function useAuthentication(verifier: TokenVerifier, principals: WeakMap<Request, Principal> = new WeakMap(), throttle?: AuthThrottle): Plugin<GatewayContext> {
  // Weak: an entry lives as long as its request, whatever becomes of the request. Shared with the security events, which need to know
  // who was refused, and with trusted operations, which run before yoga builds the context.
  return {
    async onRequestParse({ request, serverContext }) {
      const address = throttle ? (serverContext as Partial<GatewayServerContext>).clientAddress : undefined;
      const wait = address !== undefined ? throttle!.refusal(address) : undefined;
      if (wait !== undefined) throw withRetryAfter(requestError('AUTH_THROTTLED', THROTTLED_MESSAGE), wait);
      // Yoga types the server context as its own; the gateway's listener hands it a GatewayServerContext (a tool's may lack `trace`).
      const span = startChildSpan((serverContext as Partial<GatewayServerContext>).trace, 'authenticate');
      try {
        const principal = await authenticateRequest(request.headers, verifier, request.signal);
        principals.set(request, principal);
        // Which bureau and app: never the user, the citizen or the token.
        span?.setAttributes({ 'isthmus.consumer.bureau': principal.bureau, 'isthmus.consumer.app': principal.app });
      } catch (error) {
        if (span) failSpan(span, error);
        if (!isAuthError(error)) throw error;
        if (address !== undefined && countsAsFailure(error.code)) throttle!.fail(address);
        // The table answers each failure: 401 with a challenge, or 503 with retry-after while the issuer's keys are away
        // (when the error knows how long — a JWKS cooldown — its own retry-after).
        // A 500 (an issuer whose configuration cannot work) says nothing but its request id; the operator has the log and /readyz.
        const message = answerOf(error.code).status === 500 ? INTERNAL_MESSAGE : error.message;
        throw withRetryAfter(requestError(error.code, message), error.retryAfterSeconds);
      } finally {
        span?.end();
      }
    },
    onContextBuilding({ context, extendContext }) {
      const principal = principals.get(context.request);
      if (principal) extendContext({ principal });
    },
  };
}


import type { ExecutionResult, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Principal } from '../../policies/principal.ts';
import type { GatewayServerContext } from './gateway-context.ts';
import type { SecurityEventRecorder } from '../observability/security-events.ts';
import { claimedToken } from '../observability/claimed-token.ts';
import { REFUSAL_CODES, refusalKind } from '../observability/refusal-kind.ts';

/**
 * Records every `/graphql` request refused as a whole — no data and an
 * error coded `UNAUTHENTICATED`, `FORBIDDEN` or `LIMIT_EXCEEDED` — as a
 * security event, from the codes `useClientErrors` gave the result (so it
 * runs after it). Who: the verified principal, or for a refused token only
 * the issuer and key id it claimed. A field denied inside an otherwise
 * answered operation is not a refusal of the request: the access log has it.
 *
 * Costs nothing on an answered request: one look at `data` and `errors`.
 */
export function useSecurityEvents(recorder: Pick<SecurityEventRecorder, 'record'>, principals: WeakMap<Request, Principal>): Plugin<{}, GatewayServerContext> {
  return {
    onResultProcess({ request, result, serverContext }) {
      if (Symbol.asyncIterator in result) return;
      for (const one of Array.isArray(result) ? (result as ExecutionResult[]) : [result as ExecutionResult]) {
        if (one.data != null || !one.errors?.length) continue;
        const refusal = one.errors.find((error: GraphQLError) => REFUSAL_CODES.has(String(error.extensions?.['code'])));
        if (!refusal) continue;
        const code = String(refusal.extensions['code']);
        const reason = String(refusal.extensions['reason'] ?? code);
        const principal = principals.get(request);
        const who = principal
          ? { bureau: principal.bureau, app: principal.app, ...(principal.user !== undefined && { user: principal.user }), issuer: principal.issuer, subject: principal.subject }
          : claimedToken(request.headers);
        recorder.record({
          kind: refusalKind(code, reason, 'OPERATION_REFUSED'),
          reason,
          outcome: 'REFUSED',
          route: `${request.method} /graphql`,
          requestId: serverContext.requestId,
          clientAddress: serverContext.clientAddress,
          ...who,
        });
      }
    },
  };
}

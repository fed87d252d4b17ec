import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatewayServerContext } from './gateway-context.ts';
import { toClientError } from './error-codes.ts';

/**
 * The last word on every error a client receives, whatever raised it —
 * parsing, validation, limits, execution or yoga itself: each gets one of
 * the gateway's codes and the HTTP status that goes with it (see
 * `error-codes.ts`), and the request id, so that an `INTERNAL` error (which
 * says nothing else) can be traced in the logs.
 *
 * yoga's `maskError` sees only execution errors; parse and validation errors
 * reach the result unmasked, which is why this runs on `onResultProcess`.
 */
export function useClientErrors(): Plugin<{}, GatewayServerContext> {
  return {
    onResultProcess({ result, setResult, serverContext }) {
      if (Symbol.asyncIterator in result) return;
      const requestId = serverContext.requestId;
      const present = (one: ExecutionResult): ExecutionResult =>
        one.errors?.length
          ? {
              ...one,
              errors: one.errors.map((error) => {
                const client = toClientError(error);
                return new GraphQLError(client.message, {
                  nodes: client.nodes,
                  source: client.source,
                  positions: client.positions,
                  path: client.path,
                  extensions: { ...client.extensions, ...(requestId ? { requestId } : {}) },
                });
              }),
            }
          : one;
      setResult(Array.isArray(result) ? result.map(present) : present(result as ExecutionResult));
    },
  };
}

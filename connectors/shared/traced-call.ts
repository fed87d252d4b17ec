import type { UpstreamCallTrace } from '../connector.ts';

/**
 * Ends `trace` when `call` settles, with the error it failed with; with no
 * trace (tracing off) the call itself is returned, so nothing is added.
 */
export function tracedCall<T>(trace: UpstreamCallTrace | undefined, call: Promise<T>): Promise<T> {
  if (!trace) return call;
  return call.then(
    (value) => {
      trace.end({});
      return value;
    },
    (error: unknown) => {
      trace.end({ error });
      throw error;
    },
  );
}

import type { GraphQLResolveInfo } from 'graphql';

/**
 * The abort signal of the execution a resolver runs in, when the executor
 * provides one. graphql-js 16 does not; `@graphql-tools/executor`, which a
 * stitched gateway runs local subschemas with, puts the request's signal on
 * `info.signal`, so a client that goes away stops the upstream calls too.
 */
export function executionSignal(info: GraphQLResolveInfo): AbortSignal | undefined {
  const signal = (info as { readonly signal?: unknown }).signal;
  return signal instanceof AbortSignal ? signal : undefined;
}

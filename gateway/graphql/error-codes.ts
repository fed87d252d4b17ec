import { GraphQLError } from 'graphql';
import { findConnectorError } from '../../connectors/connector-error.ts';

/** Every `extensions.code` a client can see, so a `switch` over them is exhaustive. */
export type GatewayErrorCode = 'UNAUTHENTICATED' | 'FORBIDDEN' | 'BAD_USER_INPUT' | 'LIMIT_EXCEEDED' | 'UPSTREAM_UNAVAILABLE' | 'INTERNAL';

/**
 * The one table from error code to HTTP status. Field-level failures
 * (`FORBIDDEN` on some fields, `UPSTREAM_UNAVAILABLE`) travel with a 200 and a
 * partial result; the status here applies when the whole request fails.
 */
export const HTTP_STATUS: Readonly<Record<GatewayErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  BAD_USER_INPUT: 400,
  LIMIT_EXCEEDED: 400,
  UPSTREAM_UNAVAILABLE: 200,
  INTERNAL: 500,
};

const CLIENT_CODES = new Set<string>(Object.keys(HTTP_STATUS));

/** Codes that graphql-yoga and graphql-js put on a client's own mistakes. */
const CLIENT_MISTAKES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND']);

/**
 * Turns any error that reached the GraphQL layer into what the client may
 * see: a message without stacks, SQL, URLs, tokens or personal data, and an
 * `extensions.code` from {@link GatewayErrorCode}. Everything unexpected
 * becomes `INTERNAL`; the original stays in the server log.
 */
export function toClientError(error: unknown): GraphQLError {
  const graphqlError = error instanceof GraphQLError ? error : undefined;
  const at = graphqlError ? { path: graphqlError.path, nodes: graphqlError.nodes, source: graphqlError.source, positions: graphqlError.positions } : {};

  const connectorError = findConnectorError(error);
  if (connectorError) {
    return new GraphQLError(connectorError.message, {
      ...at,
      extensions: { code: 'UPSTREAM_UNAVAILABLE', bureau: connectorError.bureau, ...failureOf(connectorError) },
    });
  }
  if (!graphqlError) return internal(at);

  const code = graphqlError.extensions?.code;
  const http = graphqlError.extensions?.http as { status?: number; headers?: Record<string, string> } | undefined;
  if (typeof code === 'string' && CLIENT_CODES.has(code) && !isUnexpected(graphqlError)) {
    // Already what the client may see (a field's FORBIDDEN, say): the same error, so nothing is copied, and
    // yoga, which reports every error its masking replaced, has nothing to report.
    if (http === undefined && graphqlError.path) return graphqlError;
    // A field-level error (it has a path) rides along a partial result: it sets no status of its own.
    const { http: _ignored, ...extensions } = graphqlError.extensions;
    const status = http?.status ?? (graphqlError.path ? undefined : HTTP_STATUS[code as GatewayErrorCode]);
    return new GraphQLError(graphqlError.message, { ...at, extensions: { ...extensions, ...(status !== undefined ? { http: httpOf(status, http?.headers) } : {}) } });
  }
  const clientMistake = (typeof code === 'string' && CLIENT_MISTAKES.has(code)) || (http?.status !== undefined && http.status >= 400 && http.status < 500);
  if (clientMistake || (code === undefined && !isUnexpected(graphqlError))) {
    const status = http?.status ?? (graphqlError.path ? undefined : 400);
    return new GraphQLError(withoutValues(graphqlError.message), {
      ...at,
      extensions: { code: 'BAD_USER_INPUT', ...(status ? { http: httpOf(status, http?.headers) } : {}) },
    });
  }
  return internal(at);
}

/**
 * The status and headers yoga sends. Yoga's own `spec` flag is left out on
 * purpose: with it, yoga answers `application/json` clients 200 whatever the
 * error, and our contract is 400 for a malformed request.
 */
function httpOf(status: number, headers: Record<string, string> | undefined): { status: number; headers?: Record<string, string> } {
  return headers ? { status, headers } : { status };
}

/** Why the bureau could not serve: `timeout`, `breaker-open`, `failed`, `overloaded`, or `rejected` (it refused the request). */
function failureOf(error: object): Record<string, unknown> {
  return { reason: 'failure' in error ? error.failure : 'rejected' };
}

/** An error thrown by code (a resolver, a plugin) rather than raised by GraphQL about the request. */
function isUnexpected(error: GraphQLError): boolean {
  const original = error.originalError;
  return original !== undefined && original !== null && !(original instanceof GraphQLError);
}

function internal(at: object): GraphQLError {
  return new GraphQLError('Internal error. Quote the request id when you report it.', { ...at, extensions: { code: 'INTERNAL' } });
}

/**
 * graphql-js quotes rejected variable values back ("got invalid value
 * \"330402…\""); those values may be personal data, so they are cut out.
 */
function withoutValues(message: string): string {
  return message
    .replace(/got invalid value [^;]*;/g, 'got an invalid value;')
    .replace(/cannot represent (a non[- ][\w ]+ )?value: .*$/i, 'cannot represent the value given.')
    .replace(/(Expected value of type "[^"]+", found) .*?;/g, '$1 something else;');
}

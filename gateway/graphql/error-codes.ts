import { GraphQLError } from 'graphql';
import { findConnectorError } from '../../connectors/connector-error.ts';
import { answerHeaders, answerOf, httpStatusOf, isErrorCode, reasonOf, type ErrorCode, type GatewayErrorCode } from '../errors/error-table.ts';
import { INTERNAL_MESSAGE, moduleErrorOf } from '../errors/to-api-error.ts';

export type { GatewayErrorCode } from '../errors/error-table.ts';

const GATEWAY_CODES: readonly GatewayErrorCode[] = ['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_USER_INPUT', 'LIMIT_EXCEEDED', 'UPSTREAM_UNAVAILABLE', 'INTERNAL'];

/**
 * The HTTP status of each GraphQL client code, as the gateway's one error
 * table (`gateway/errors/error-table.ts`) gives it. Field-level failures
 * (`FORBIDDEN` on some fields, `UPSTREAM_UNAVAILABLE`) travel with a 200 and a
 * partial result; the status here applies when the whole request fails.
 */
export const HTTP_STATUS: Readonly<Record<GatewayErrorCode, number>> = Object.fromEntries(GATEWAY_CODES.map((code) => [code, httpStatusOf(code)])) as Record<GatewayErrorCode, number>;

const CLIENT_CODES: ReadonlySet<string> = new Set(GATEWAY_CODES);

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
  // A coded error of one of the gateway's modules, thrown by a plugin or resolver: the table says what the client sees.
  const moduleError = isUnexpected(graphqlError) ? fromModuleError(graphqlError.originalError, at, graphqlError.path !== undefined) : undefined;
  if (moduleError) return moduleError;

  const code = graphqlError.extensions?.code;
  const http = graphqlError.extensions?.http as { status?: number; headers?: Record<string, string>; spec?: boolean } | undefined;
  if (typeof code === 'string' && CLIENT_CODES.has(code) && !isUnexpected(graphqlError)) {
    // Already what the client may see (a field's FORBIDDEN, say): the same error, so nothing is copied, and
    // yoga, which reports every error its masking replaced, has nothing to report.
    if (http === undefined && graphqlError.path) return graphqlError;
    // A field-level error (it has a path) rides along a partial result: it sets no status of its own.
    const { http: _ignored, ...extensions } = graphqlError.extensions;
    const status = http?.status ?? (graphqlError.path ? undefined : httpStatusOf(code as GatewayErrorCode));
    // Yoga marks every validation error `spec` (a limit rule's too) before this runs, and documentError does: a document refused.
    const spec = http?.spec === true && !graphqlError.path;
    return new GraphQLError(graphqlError.message, { ...at, extensions: { ...extensions, ...(status !== undefined ? { http: httpOf(status, http?.headers, spec) } : {}) } });
  }
  const clientMistake = (isErrorCode(code) && answerOf(code).code === 'BAD_USER_INPUT') || (http?.status !== undefined && http.status >= 400 && http.status < 500);
  if (clientMistake || (code === undefined && !isUnexpected(graphqlError))) {
    const status = http?.status ?? (graphqlError.path ? undefined : isErrorCode(code) ? httpStatusOf(code) : 400);
    return new GraphQLError(withoutValues(graphqlError.message), {
      ...at,
      extensions: { code: 'BAD_USER_INPUT', ...(status ? { http: httpOf(status, http?.headers, isDocumentFailure(graphqlError, code, http)) } : {}) },
    });
  }
  return internal(at);
}

/**
 * An error that ends the whole GraphQL request, answered as the error table
 * says for `code`: the client code, the module's code as `reason`, the status
 * and its headers. Plugins raise these instead of choosing statuses.
 *
 * @example
 * throw requestError('TOKEN_EXPIRED', 'The token has expired.'); // UNAUTHENTICATED, reason TOKEN_EXPIRED, 401 + www-authenticate
 */
export function requestError(code: ErrorCode, message: string, extensions: Readonly<Record<string, unknown>> = {}): GraphQLError {
  const answer = answerOf(code);
  const reason = reasonOf(code);
  const headers = answerHeaders(answer);
  return new GraphQLError(message, {
    extensions: {
      code: answer.code,
      ...(reason !== undefined ? { reason } : {}),
      ...extensions,
      http: httpOf(answer.status, Object.keys(headers).length > 0 ? { ...headers } : undefined),
    },
  });
}

/**
 * The same request error with `retry-after` set to `seconds`, when it has one
 * and the error table gave it a `retry-after` (a failure that passes).
 */
export function withRetryAfter(error: GraphQLError, seconds: number | undefined): GraphQLError {
  const http = error.extensions.http as { status: number; headers?: Record<string, string> } | undefined;
  if (seconds === undefined || http?.headers?.['retry-after'] === undefined) return error;
  return new GraphQLError(error.message, { extensions: { ...error.extensions, http: { ...http, headers: { ...http.headers, 'retry-after': String(seconds) } } } });
}

/**
 * Like {@link requestError}, for a refusal of the document or its variables
 * (a depth or alias limit found while validating, an operation the document
 * does not name, variables that do not coerce): the table's status for a
 * client that accepts `application/graphql-response+json`, 200 with the
 * error for an `application/json` one, as GraphQL over HTTP says of a
 * GraphQL request error (see {@link isDocumentFailure}).
 *
 * @example
 * context.reportError(documentError('LIMIT_EXCEEDED', 'The operation is nested deeper than 8 levels.', { limit: 'depth', max: 8 }));
 */
export function documentError(code: ErrorCode, message: string, extensions: Readonly<Record<string, unknown>> = {}): GraphQLError {
  const error = requestError(code, message, extensions);
  const http = error.extensions.http as { status: number; headers?: Record<string, string> };
  return new GraphQLError(message, { extensions: { ...error.extensions, http: httpOf(http.status, http.headers, true) } });
}

/** What yoga needs to answer an error: its status and headers, and `spec` for a {@link isDocumentFailure}. */
interface HttpAnswer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  /** Yoga's flag: not this status but 200 when the response is `application/json`. */
  readonly spec?: true;
}

/**
 * The status and headers yoga sends. `spec` is yoga's own flag and set only
 * here, by the gateway's choice: yoga leaves out the status of an error so
 * marked when it answers `application/json` (its `getResponseInitByRespectingErrors`,
 * a check of the media type it has chosen anyway, so no cost per request).
 * Yoga marks a body that is not JSON the same way, and GraphQL over HTTP
 * wants 400 for that one, which is why no flag of yoga's passes through
 * except on validation errors.
 */
function httpOf(status: number, headers: Record<string, string> | undefined, spec = false): HttpAnswer {
  return { status, ...(headers ? { headers } : {}), ...(spec ? { spec: true as const } : {}) };
}

/**
 * Whether GraphQL over HTTP answers this request error with 200 for an
 * `application/json` client (its "SHOULD use 200" cases): a document that
 * does not parse (yoga's `GRAPHQL_PARSE_FAILED`) or validate, an operation
 * that cannot be determined, variables that do not coerce (graphql-js's own
 * errors, without a code or a status). Not a body that is not JSON, nor
 * parameters of the wrong type (yoga's `BAD_REQUEST`, 400 for every client),
 * nor anything a plugin raised with a code of the gateway (a malformed
 * header, a quota, a refusal), whose status holds whatever the media type.
 */
function isDocumentFailure(error: GraphQLError, code: unknown, http: { status?: number } | undefined): boolean {
  if (error.path) return false;
  if (code === undefined) return http?.status === undefined;
  return code === 'GRAPHQL_PARSE_FAILED' || code === 'GRAPHQL_VALIDATION_FAILED' || code === 'OPERATION_RESOLUTION_FAILURE';
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
  return new GraphQLError(INTERNAL_MESSAGE, { ...at, extensions: { code: 'INTERNAL' } });
}

/**
 * An `AccessLogError`, `StoreError`, `AuthError`, … (or an `ApiError`) that
 * reached the GraphQL layer: its client code, its module code as `reason`,
 * and the status and headers of the error table, unless it belongs to a
 * field. Undefined for anything else, which stays `INTERNAL`.
 */
function fromModuleError(original: unknown, at: object, onField: boolean): GraphQLError | undefined {
  const refusal = moduleErrorOf(original);
  if (!refusal) return undefined;
  const answer = refusal.answer;
  if (answer.status === 500) return internal(at);
  const reason = reasonOf(refusal.code);
  const headers = answerHeaders(answer);
  return new GraphQLError(refusal.message, {
    ...at,
    extensions: {
      code: answer.code,
      ...(reason !== undefined ? { reason } : {}),
      ...(refusal.field !== undefined ? { field: refusal.field } : {}),
      ...(onField ? {} : { http: httpOf(answer.status, Object.keys(headers).length > 0 ? { ...headers } : undefined) }),
    },
  });
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

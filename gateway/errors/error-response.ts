import type { ApiError } from './api-error.ts';
import { answerHeaders, reasonOf } from './error-table.ts';
import { INTERNAL_MESSAGE } from './to-api-error.ts';

/** One error as every JSON API of the gateway answers it, GraphQL's shape: `{ message, extensions: { code, requestId, … } }`. */
export interface ErrorPayload {
  readonly errors: readonly [
    {
      readonly message: string;
      readonly extensions: {
        readonly code: string;
        readonly reason?: string;
        readonly field?: string;
        readonly rule?: string;
        readonly requestId: string;
      };
    },
  ];
}

/** The body of a refusal: the client code, the module's code as `reason`, the field or rule at fault, and the request id. */
export function errorPayload(error: ApiError, requestId: string): ErrorPayload {
  const answer = error.answer;
  const reason = reasonOf(error.code);
  const internal = answer.status === 500;
  return {
    errors: [
      {
        message: internal ? INTERNAL_MESSAGE : error.message,
        extensions: {
          code: answer.code,
          ...(reason !== undefined && { reason }),
          ...(!internal && error.field !== undefined && { field: error.field }),
          ...(!internal && error.rule !== undefined && { rule: error.rule }),
          requestId,
        },
      },
    ],
  };
}

/** The headers of a refusal: its answer's (`www-authenticate`, `retry-after`) and `Allow` for a wrong method. */
export function errorHeaders(error: ApiError): Readonly<Record<string, string>> {
  const headers = answerHeaders(error.answer);
  const retryAfter: Record<string, string> = headers['retry-after'] !== undefined && error.retryAfterSeconds !== undefined ? { 'retry-after': String(error.retryAfterSeconds) } : {};
  return { ...headers, ...retryAfter, ...(error.allow && { allow: error.allow.join(', ') }) };
}

/**
 * A refusal as a fetch `Response`: the status of the code's answer, its
 * headers, and {@link errorPayload} as JSON.
 *
 * @example
 * return errorResponse(new ApiError('ROUTE_NOT_FOUND', 'no route for this method and path'), requestIdOf(c.req.raw));
 */
export function errorResponse(error: ApiError, requestId: string): Response {
  return new Response(JSON.stringify(errorPayload(error, requestId)), {
    status: error.status,
    headers: { ...errorHeaders(error), 'content-type': 'application/json; charset=utf-8' },
  });
}

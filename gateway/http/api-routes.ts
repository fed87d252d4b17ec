import type { Env, ErrorHandler, Handler, Hono, MiddlewareHandler, NotFoundHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ApiError } from '../errors/api-error.ts';
import { errorResponse } from '../errors/error-response.ts';
import { requestIdOf } from '../errors/request-id.ts';
import { toApiError } from '../errors/to-api-error.ts';
import type { Logger } from '../observability/logger.ts';
import { checkWellFormedInput } from './check-well-formed-input.ts';

/** The methods the JSON APIs serve; `HEAD` comes with every `GET`. `PUT` replaces a whole document (an app's registered operations). */
export type ApiMethod = 'GET' | 'POST' | 'PUT';

/** How a JSON API's routes are guarded. */
export interface ApiRoutesOptions<E extends Env> {
  /** Largest request body read; a larger one is `BODY_TOO_LARGE` (413) before any of it is parsed. */
  readonly maxBodyBytes: number;
  /** Runs after the edge's checks and before each handler: the API's authentication, typically. */
  readonly guard?: MiddlewareHandler<E>;
  /** Where failures of ours (5xx) are logged, with the request id. */
  readonly log?: Pick<Logger, 'error'>;
}

/** Registers a JSON API's routes behind its edge. */
export interface ApiRoutes<E extends Env> {
  on(method: ApiMethod, path: string, handler: Handler<E>): void;
}

/**
 * The edge every route of a JSON API stands behind, so that each API owns
 * exactly the paths it registers here (two APIs mounted at one prefix do
 * not depend on their order) and validates its input once, before any
 * handler runs:
 *
 * 1. a method the path does not take: 405 with `Allow`;
 * 2. a `POST` body without a length (chunked): 411; over `maxBodyBytes`: 413;
 * 3. every query parameter (names and values) and path parameter is text
 *    PostgreSQL can hold (see {@link checkWellFormedInput}): else 400
 *    naming it;
 * 4. the API's `guard`; then the handler.
 *
 * Every error thrown on the way is answered by {@link apiErrorHandler} in
 * the shape of GraphQL errors, with the status of the error table.
 *
 * @example
 * const routes = apiRoutes(app, { maxBodyBytes: 64 * 1024, guard: staffOnly });
 * routes.on('GET', '/agreements/:id', async (c) => c.json(await load(c.req.param('id'))));
 */
export function apiRoutes<E extends Env>(app: Hono<E>, options: ApiRoutesOptions<E>): ApiRoutes<E> {
  if (!Number.isSafeInteger(options.maxBodyBytes) || options.maxBodyBytes < 1) throw new TypeError('apiRoutes: maxBodyBytes must be a positive whole number');
  const methodsOf = new Map<string, Set<string>>();
  const limit = bodyLimit({
    maxSize: options.maxBodyBytes,
    onError: () => {
      throw new ApiError('BODY_TOO_LARGE', `the request body is larger than ${options.maxBodyBytes} bytes`);
    },
  });
  app.onError(apiErrorHandler(options.log));
  // Used when the API is served on its own (tests, tools); mounted with `route()`, the parent app's answers.
  app.notFound(apiNotFound);

  const edge =
    (methods: ReadonlySet<string>): MiddlewareHandler<E> =>
    async (c, next) => {
      if (!methods.has(c.req.method)) {
        const allow = [...methods];
        throw new ApiError('METHOD_NOT_ALLOWED', `this path takes ${allow.join(', ')}`, { allow });
      }
      // Without a length the body could only be bounded by reading it; every HTTP client sends one for JSON.
      const hasBody = c.req.method === 'POST' || c.req.method === 'PUT';
      if (hasBody && c.req.header('content-length') === undefined && c.req.header('transfer-encoding') !== undefined) {
        throw new ApiError('LENGTH_REQUIRED', `a ${c.req.method} here needs a Content-Length header`);
      }
      for (const [name, values] of Object.entries(c.req.queries())) {
        checkWellFormedInput(name, 'query');
        for (const value of values) checkWellFormedInput(value, name);
      }
      for (const [name, value] of Object.entries(c.req.param() as Record<string, string>)) checkWellFormedInput(value, name);
      return hasBody ? limit(c, next) : next();
    };

  return {
    on(method, path, handler) {
      let methods = methodsOf.get(path);
      if (!methods) {
        methods = new Set();
        methodsOf.set(path, methods);
        app.use(path, edge(methods));
      }
      methods.add(method);
      if (method === 'GET') methods.add('HEAD');
      if (options.guard) app.on(method, path, options.guard, handler);
      else app.on(method, path, handler);
    },
  };
}

/**
 * Answers any error a JSON API's route threw: coded errors of the gateway's
 * modules with their code's status and message, everything else as a 500
 * `INTERNAL` that says nothing but the request id (and is logged).
 */
export function apiErrorHandler(log?: Pick<Logger, 'error'>): ErrorHandler {
  return (error, c) => {
    const refusal = toApiError(error);
    const requestId = requestIdOf(c.req.raw);
    if (refusal.status >= 500) log?.error({ err: error, requestId, code: refusal.code }, 'a JSON API request failed');
    return errorResponse(refusal, requestId);
  };
}

/** A path no API registered: 404 in the same shape, without quoting the path (it may hold an ID number). */
export const apiNotFound: NotFoundHandler = (c) => errorResponse(new ApiError('ROUTE_NOT_FOUND', 'there is no route for this method and path'), requestIdOf(c.req.raw));

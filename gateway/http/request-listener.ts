import { NO_TRUSTED_PROXIES, type TrustedProxies } from './trusted-proxies.ts';
import { clientAddressOf } from './client-address.ts';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { GatewayYoga } from '../graphql/yoga.ts';
import { REQUEST_ID_HEADER, type GatewayServerContext } from '../graphql/gateway-context.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Logger } from '../observability/logger.ts';
import type { Tracing } from '../observability/tracing.ts';
import { endRequestSpan } from '../observability/request-span.ts';
import { createStaticAsset, type StaticAsset } from './static-asset.ts';
import { ApiError } from '../errors/api-error.ts';
import { errorHeaders, errorPayload } from '../errors/error-response.ts';
import { SAFE_REQUEST_ID } from '../errors/request-id.ts';
import { INTERNAL_MESSAGE } from '../errors/to-api-error.ts';

/**
 * Where `/graphql` requests go when the yoga instance can change (a
 * catalogue reload): each request acquires the current one and releases it
 * when its response is done, so what it started on is kept until then.
 */
export interface YogaSource {
  acquire(): { readonly yoga: GatewayYoga; readonly release: () => void };
}

/** What the node:http listener dispatches to. */
export interface RequestListenerDeps {
  /** One yoga for the listener's life, or a {@link YogaSource}. */
  readonly yoga: GatewayYoga | YogaSource;
  readonly app: Hono;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly maxBodyBytes: number;
  /**
   * Most bytes of `/graphql` bodies admitted at once, counted by their
   * Content-Length from arrival until the response is done; a body past it gets
   * 503 with `retry-after`. At least `maxBodyBytes`.
   */
  readonly maxBodyBytesInFlight: number;
  /** Whether yoga serves GraphiQL: the listener then serves yoga's page itself, compressed and cached. */
  readonly graphiql: boolean;
  /** Addresses of the proxies in front of the gateway, whose `x-forwarded-for` is believed (`client-address.ts`); none by default. */
  readonly trustedProxies?: TrustedProxies;
  /** The gateway's tracing (`observability/tracing.ts`); absent when it is off, and then nothing of it runs. */
  readonly tracing?: Tracing;
}

/**
 * How much of a refused body is read and dropped after the answer. Enough
 * for a client that reads only once it has sent everything (Python's
 * http.client, Java's HttpURLConnection) to finish a body of 16 times the
 * default limit and then read why; past it, the connection is cut.
 */
export const REFUSED_BODY_DRAIN_BYTES = 16 * 1_048_576;
/** How long a refused request's connection stays open, at most, for the client to finish sending and read the answer. */
export const REFUSAL_LINGER_MS = 10_000;
/** GraphiQL's page has no version in its URL, so a browser keeps it but asks each time (a 304 of a few hundred bytes). */
const GRAPHIQL_CACHE_CONTROL = 'no-cache';

const GRAPHQL_PATH = '/graphql';
const SERVED_PATHS: ReadonlySet<string> = new Set([GRAPHQL_PATH, '/healthz', '/readyz', '/metrics']);
/**
 * The gateway's node:http listener.
 *
 * `/graphql` goes straight to yoga's node handler: measured, routing it
 * through hono's fetch adapter cost 28% of throughput, while handing it over
 * first kept 98.5%. Everything else goes to the hono app. Both get a request
 * id (the caller's `x-request-id` if it is sane, else a new one), echoed in
 * the response header and on one JSON log line per request.
 *
 * Before yoga reads a body, the listener bounds it: a POST needs a
 * Content-Length no larger than `maxBodyBytes` (411, 413), and the bodies
 * admitted at once stay within `maxBodyBytesInFlight` (503). A refused client
 * can always read why (see {@link REFUSED_BODY_DRAIN_BYTES}). GraphiQL's page
 * is taken from yoga once and served compressed, with an ETag.
 */
export function createRequestListener(deps: RequestListenerDeps): (request: IncomingMessage, response: ServerResponse) => void {
  // Replacing the global Request/Response (hono's default) would change them under yoga and our fetch calls too.
  const trustedProxies = deps.trustedProxies ?? NO_TRUSTED_PROXIES;
  const honoListener = getRequestListener(deps.app.fetch, { overrideGlobalObjects: false });
  const { metrics, log, maxBodyBytes, maxBodyBytesInFlight } = deps;
  const source: YogaSource = 'acquire' in deps.yoga ? deps.yoga : { acquire: () => ({ yoga: deps.yoga as GatewayYoga, release: () => {} }) };
  let bodyBytesInFlight = 0;
  let graphiqlPage: Promise<StaticAsset | undefined> | undefined;

  const serveGraphiql = (request: IncomingMessage, response: ServerResponse, context: GatewayServerContext): void => {
    // The page does not depend on the schema (GraphiQL asks for it by introspection), so the first generation's serves all.
    const { yoga, release } = source.acquire();
    response.once('close', release);
    graphiqlPage ??= renderedGraphiql(yoga, context).catch((error: unknown) => {
      // Not kept: the next visitor tries again.
      graphiqlPage = undefined;
      throw error;
    });
    graphiqlPage.then(
      (page) => (page ? page.serve(request, response) : void yoga.handle(request, response, context)),
      (error: unknown) => {
        log.error({ err: error, requestId: context.requestId }, 'GraphiQL page could not be prepared');
        refuseReadably(request, response, new ApiError('INTERNAL', INTERNAL_MESSAGE), context.requestId);
      },
    );
  };

  return (request, response) => {
    const started = performance.now();
    const offered = request.headers[REQUEST_ID_HEADER];
    const requestId = typeof offered === 'string' && SAFE_REQUEST_ID.test(offered) ? offered : randomUUID();
    response.setHeader(REQUEST_ID_HEADER, requestId);
    const path = pathOf(request.url);
    const route = path === GRAPHQL_PATH ? GRAPHQL_PATH : path;
    response.once('finish', () => {
      const seconds = (performance.now() - started) / 1_000;
      metrics.observeRequest(knownRoute(route), response.statusCode, seconds);
      log.info({ requestId, method: request.method, path, status: response.statusCode, ms: Math.round(seconds * 10_000) / 10 }, 'request');
    });

    if (path !== GRAPHQL_PATH) {
      // Routes that record the request (reading the access log is itself logged) see the id the response carries.
      request.headers[REQUEST_ID_HEADER] = requestId;
      void honoListener(request, response);
      return;
    }
    const trace = deps.tracing?.startRequest(request, GRAPHQL_PATH, requestId);
    if (trace) response.once('finish', () => endRequestSpan(trace.span, response.statusCode));
    // The gateway's logger itself, not a child per request: a line that needs the request id names it.
    const context: GatewayServerContext = { requestId, log, startedAt: started, clientAddress: clientAddressOf(request, trustedProxies), trace };
    if (deps.graphiql && asksForGraphiql(request)) return serveGraphiql(request, response, context);
    const refusal = refuse(request, maxBodyBytes);
    if (refusal) return refuseReadably(request, response, refusal, requestId);
    const bodyBytes = declaredLength(request);
    if (bodyBytes > 0) {
      if (bodyBytesInFlight + bodyBytes > maxBodyBytesInFlight) {
        const busy = new ApiError('BODIES_IN_FLIGHT', 'The gateway is holding as many request bodies as it may at once; try again shortly.');
        return refuseReadably(request, response, busy, requestId);
      }
      // Held until the response is done (or the client is gone): the parsed body lives as long as the operation does.
      bodyBytesInFlight += bodyBytes;
      response.once('close', () => (bodyBytesInFlight -= bodyBytes));
    }
    const { yoga, release } = source.acquire();
    response.once('close', release);
    void yoga.handle(request, response, context);
  };
}

/** Why a request is answered before anything reads its body, if it is. */
function refuse(request: IncomingMessage, maxBodyBytes: number): ApiError | undefined {
  const method = request.method ?? 'GET';
  if (method !== 'GET' && method !== 'POST' && method !== 'OPTIONS') {
    return new ApiError('METHOD_NOT_ALLOWED', `${method} is not supported on /graphql; use POST (or GET for queries).`, { allow: ['GET', 'POST', 'OPTIONS'] });
  }
  if (method !== 'POST') return undefined;
  if (request.headers['content-length'] === undefined) {
    // Without a length the body could only be bounded by reading it here,
    // on the hot path; every HTTP client sends one for a JSON body.
    return new ApiError('LENGTH_REQUIRED', 'A POST to /graphql needs a Content-Length header.');
  }
  if (declaredLength(request) > maxBodyBytes) {
    return new ApiError('BODY_TOO_LARGE', `The request body is larger than ${maxBodyBytes} bytes.`);
  }
  return undefined;
}

/** The body's Content-Length; node's parser has already refused one that is not a number. */
function declaredLength(request: IncomingMessage): number {
  const length = Number(request.headers['content-length'] ?? 0);
  return Number.isFinite(length) ? length : 0;
}

/**
 * Answers a request the gateway will not serve in a way the client can read,
 * then closes the connection.
 *
 * The answer is written at once, but the response is ended only when the
 * client has finished sending (what it sends is read and dropped), or
 * {@link REFUSED_BODY_DRAIN_BYTES} were dropped, or {@link REFUSAL_LINGER_MS}
 * passed. Ending it makes node close the socket, and a socket closed while the
 * client's bytes still arrive answers them with a reset, which takes the
 * unread answer with it: under load most refused uploaders saw EPIPE, not 413.
 */
function refuseReadably(request: IncomingMessage, response: ServerResponse, refusal: ApiError, requestId: string): void {
  const body = JSON.stringify(errorPayload(refusal, requestId));
  response.writeHead(refusal.status, { ...errorHeaders(refusal), 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  response.write(body);
  let dropped = 0;
  const close = (): void => {
    clearTimeout(linger);
    request.off('data', drop);
    request.off('end', close);
    response.end();
  };
  const drop = (chunk: Buffer): void => {
    dropped += chunk.length;
    if (dropped > REFUSED_BODY_DRAIN_BYTES) close();
  };
  const linger = setTimeout(close, REFUSAL_LINGER_MS).unref();
  response.once('close', () => clearTimeout(linger));
  request.on('data', drop);
  request.once('end', close);
}

/** Yoga renders GraphiQL for a GET that accepts HTML (graphql-yoga's `shouldRenderGraphiQL`). */
function asksForGraphiql(request: IncomingMessage): boolean {
  return request.method === 'GET' && (request.headers.accept ?? '').includes('text/html');
}

/**
 * GraphiQL's page as yoga renders it (its title, the demo's default query),
 * asked for once: it is the same for every request, and at 9 MB it is worth
 * compressing once rather than sending whole each time. Undefined if yoga
 * answers with anything but a page.
 */
async function renderedGraphiql(yoga: GatewayYoga, context: GatewayServerContext): Promise<StaticAsset | undefined> {
  const rendered = await yoga.fetch(`http://gateway${GRAPHQL_PATH}`, { headers: { accept: 'text/html' } }, context);
  const page = Buffer.from(await rendered.arrayBuffer());
  if (rendered.status !== 200 || !rendered.headers.get('content-type')?.startsWith('text/html')) return undefined;
  return createStaticAsset(page, { contentType: 'text/html; charset=utf-8', cacheControl: GRAPHIQL_CACHE_CONTROL });
}

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const query = raw.indexOf('?');
  return query === -1 ? raw : raw.slice(0, query);
}

/** Metrics label only the routes we serve, so random paths cannot blow up label cardinality. */
function knownRoute(path: string): string {
  if (path.startsWith('/admin/')) return '/admin';
  if (path === '/console' || path.startsWith('/console/')) return '/console';
  if (path.startsWith('/.well-known/') || SERVED_PATHS.has(path)) return path;
  return 'other';
}

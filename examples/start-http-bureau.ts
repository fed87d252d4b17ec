import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BureauServer } from './bureau-server.ts';
import { createGatewayTrust, type GatewayRejection, type GatewayTrust, type GatewayTrustOptions } from './gateway-trust.ts';

/** A Node request listener, as graphql-yoga and `@hono/node-server`'s `getRequestListener` provide. */
export type BureauRequestListener = (request: IncomingMessage, response: ServerResponse) => unknown;

/** Options of {@link startHttpBureau}. */
export interface HttpBureauOptions {
  /** 0 (the default) picks a free port once; restarts keep it. */
  readonly port?: number;
  /** Defaults to loopback: demo bureaus are never reachable from outside the machine. */
  readonly host?: string;
  /** Appended to the base URL to form {@link BureauServer.url}, e.g. `/graphql`. */
  readonly path?: string;
  /**
   * The bureau's id in the catalogue (`public-security`): the audience its
   * consumer assertions must name. Without it, {@link BureauServer.trustGateway} throws.
   */
  readonly bureau?: string;
  /** Trust the gateway from the start, as {@link BureauServer.trustGateway} would; needs `bureau`. */
  readonly trustGateway?: GatewayTrustOptions;
  /** The JSON body of a refused request, in the bureau's own error shape. Default {@link restRejectionBody}. */
  readonly rejectionBody?: (rejection: GatewayRejection) => unknown;
}

/** A REST bureau's refusal: `{ error: { code, reason, message } }`. */
export function restRejectionBody(rejection: GatewayRejection): unknown {
  return { error: { code: rejection.code, reason: rejection.reason, message: rejection.message } };
}

/** A GraphQL bureau's refusal: an `errors` list and no `data`. */
export function graphqlRejectionBody(rejection: GatewayRejection): unknown {
  return { errors: [{ message: rejection.message, extensions: { code: rejection.code, reason: rejection.reason } }] };
}

/** Where demo bureaus listen unless told otherwise: loopback only. */
export const DEFAULT_BUREAU_HOST = '127.0.0.1';

/**
 * Serves `listener` on node:http and wraps it in a {@link BureauServer}
 * handle: a request counter, a latency knob, stop/start on a fixed port, and
 * trust in the gateway's consumer assertions, checked before `listener`
 * sees the request.
 *
 * @example
 * const bureau = await startHttpBureau(yoga, { path: '/graphql' });
 * bureau.url; // 'http://127.0.0.1:40123/graphql'
 */
export async function startHttpBureau(
  listener: BureauRequestListener,
  options: HttpBureauOptions = {},
): Promise<BureauServer> {
  const host = options.host ?? DEFAULT_BUREAU_HOST;
  let port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new RangeError('port must be an integer from 0 to 65535');

  const trust: GatewayTrust | undefined = options.bureau === undefined ? undefined : createGatewayTrust({ bureau: options.bureau });
  if (options.trustGateway !== undefined) {
    if (trust === undefined) throw new TypeError('trustGateway needs the bureau id');
    trust.trust(options.trustGateway);
  }
  const rejectionBody = options.rejectionBody ?? restRejectionBody;

  let requests = 0;
  let latencyMs = 0;
  // Delayed requests whose turn has not come; a stop cancels them, since their sockets are gone.
  const delayed = new Set<NodeJS.Timeout>();

  const guarded = trust?.guard(listener, rejectionBody) ?? listener;
  const serve = (request: IncomingMessage, response: ServerResponse): void => {
    Promise.resolve(guarded(request, response)).catch(() => {
      // Yoga and hono answer their own errors; this only catches a listener
      // that threw outright, so the client is not left hanging.
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end('{"error":{"code":"INTERNAL"}}');
    });
  };

  const server = createServer((request, response) => {
    requests += 1;
    if (latencyMs === 0) return serve(request, response);
    const timer = setTimeout(() => {
      delayed.delete(timer);
      serve(request, response);
    }, latencyMs);
    delayed.add(timer);
  });

  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const fail = (error: Error): void => reject(error);
      server.once('error', fail);
      server.listen(port, host, () => {
        server.off('error', fail);
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });

  await listen();
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}${options.path ?? ''}`;

  return {
    url,
    requestCount: () => requests,
    setLatency(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError('latency must be a non-negative number of milliseconds');
      latencyMs = ms;
    },
    async start() {
      if (!server.listening) await listen();
    },
    trustGateway(trustOptions) {
      if (trust === undefined) throw new TypeError('this bureau server was started without a bureau id, so it cannot check assertions addressed to it');
      trust.trust(trustOptions);
    },
    recentConsumers: () => trust?.recentConsumers() ?? [],
    assertionsVerified: () => trust?.verifications() ?? 0,
    async stop() {
      if (!server.listening) return;
      for (const timer of delayed) clearTimeout(timer);
      delayed.clear();
      const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      // close() alone waits for keep-alive connections to go idle and time
      // out; a bureau that is down must refuse its existing clients too.
      server.closeAllConnections();
      await closed;
    },
  };
}

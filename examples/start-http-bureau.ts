import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BureauServer } from './bureau-server.ts';

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
}

/** Where demo bureaus listen unless told otherwise: loopback only. */
export const DEFAULT_BUREAU_HOST = '127.0.0.1';

/**
 * Serves `listener` on node:http and wraps it in a {@link BureauServer}
 * handle: a request counter, a latency knob, and stop/start on a fixed port.
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

  let requests = 0;
  let latencyMs = 0;
  // Delayed requests whose turn has not come; a stop cancels them, since their sockets are gone.
  const delayed = new Set<NodeJS.Timeout>();

  const serve = (request: IncomingMessage, response: ServerResponse): void => {
    Promise.resolve(listener(request, response)).catch(() => {
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

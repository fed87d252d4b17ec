import type { Server as HttpServer } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import type { RunningSystem } from './running-system.ts';

/** Loads target this host only. */
export const BENCH_HOST = '127.0.0.1';

/**
 * Listens on a free port of 127.0.0.1 and returns `http://127.0.0.1:<port>`.
 * Any `net` server will do (HTTP servers, TCP proxies).
 *
 * @example
 * const base = await listenOnLoopback(createServer(yoga));
 */
export function listenOnLoopback(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, BENCH_HOST, () => {
      server.off('error', reject);
      resolve(`http://${BENCH_HOST}:${(server.address() as AddressInfo).port}`);
    });
  });
}

/** Stops accepting, closes idle keep-alive sockets, and resolves once in-flight requests are done. */
export function closeServer(server: HttpServer): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  return closed;
}

/**
 * Serves a system's `/graphql` on loopback; closing it stops the server,
 * then releases what the system holds (connectors, pools, runtimes).
 *
 * @example
 * return serveSystem(createServer(yoga), () => connector.close());
 */
export async function serveSystem(server: HttpServer, release: () => unknown): Promise<RunningSystem> {
  const base = await listenOnLoopback(server);
  return {
    url: `${base}/graphql`,
    headers: {},
    async close() {
      await closeServer(server);
      await release();
    },
  };
}

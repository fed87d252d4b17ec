import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Loads target this host only. */
export const BENCH_HOST = '127.0.0.1';

/**
 * Listens on a free port of 127.0.0.1 and returns `http://127.0.0.1:<port>`.
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
export function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  return closed;
}

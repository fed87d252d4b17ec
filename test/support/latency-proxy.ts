import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy in front of a server, for tests that need a slow network to a
 * system that has no latency knob of its own (a bureau's PostgreSQL).
 */
export interface LatencyProxy {
  /** The target's URL with host and port replaced by the proxy's: user, database and parameters are kept. */
  readonly url: string;
  /** Delays every byte from the server to its client by `ms` from now on, keeping their order. */
  setLatency(ms: number): void;
  /** Bytes clients have sent towards the server so far: unchanged means nothing reached it. */
  bytesToServer(): number;
  /**
   * Resolves once every connection through the proxy is closed at both ends,
   * e.g. after a pool ended, so a server that takes one connection at a time
   * (PGlite's socket) is free again; rejects after `timeoutMs`.
   */
  idle(timeoutMs?: number): Promise<void>;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

/**
 * Starts a {@link LatencyProxy} on 127.0.0.1 in front of `targetUrl`'s host and port.
 *
 * @example
 * const proxy = await startLatencyProxy(database.url);
 * createSqlConnector({ …, url: proxy.url });
 * proxy.setLatency(1_000); // every answer now arrives a second late
 */
export async function startLatencyProxy(targetUrl: string): Promise<LatencyProxy> {
  const target = new URL(targetUrl);
  const targetHost = target.hostname.replace(/^\[(.*)\]$/, '$1');
  const targetPort = Number(target.port);
  let latencyMs = 0;
  let bytes = 0;
  const sockets = new Set<net.Socket>();
  let open = 0;
  const whenIdle: (() => void)[] = [];

  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    open += 1;
    let clientClosed = false;
    let upstreamClosed = false;
    const closed = (): void => {
      if (!clientClosed || !upstreamClosed) return;
      open -= 1;
      if (open === 0) for (const resolve of whenIdle.splice(0)) resolve();
    };
    client.once('close', () => {
      clientClosed = true;
      closed();
    });
    upstream.once('close', () => {
      upstreamClosed = true;
      closed();
    });
    sockets.add(client);
    sockets.add(upstream);
    // Server-to-client chunks wait here for their time; one timer drains the head,
    // so a latency lowered later never lets a chunk overtake an earlier one.
    const pending: { readonly at: number; readonly send: () => void }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const pump = (): void => {
      timer = undefined;
      while (pending.length > 0 && pending[0]!.at <= Date.now()) pending.shift()!.send();
      if (pending.length > 0) timer = setTimeout(pump, pending[0]!.at - Date.now());
    };
    const later = (send: () => void): void => {
      const at = Math.max(Date.now() + latencyMs, pending.at(-1)?.at ?? 0);
      pending.push({ at, send });
      if (timer === undefined) timer = setTimeout(pump, Math.max(0, at - Date.now()));
    };
    const drop = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      pending.length = 0;
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };

    client.on('data', (chunk) => {
      bytes += chunk.length;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => later(() => client.write(chunk)));
    upstream.on('end', () => later(() => client.end()));
    client.on('end', () => upstream.end());
    upstream.on('error', drop);
    client.on('error', drop);
    client.on('close', drop);
    upstream.on('close', () => later(drop));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as AddressInfo).port);

  return {
    url: url.toString(),
    setLatency(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError('latency must be a non-negative number of milliseconds');
      latencyMs = ms;
    },
    bytesToServer: () => bytes,
    idle(timeoutMs = 5_000) {
      if (open === 0) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`connections still open after ${timeoutMs} ms`)), timeoutMs);
        whenIdle.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      return closed;
    },
  };
}

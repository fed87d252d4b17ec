import { createServer, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A small HTTP load balancer for tests that run several gateways behind one
 * address, as a Kubernetes Service or an nginx `upstream` block would: each
 * request goes to the next upstream in turn, its method, headers and body
 * forwarded, the answer streamed back as it comes.
 *
 * A dead upstream is handled as a load balancer's passive health check does:
 * a request whose connection to it is refused (nothing was sent, so nothing
 * can have run twice) is tried on the next upstream, and the upstream is
 * skipped for {@link DEFAULT_DOWN_FOR_MS}. A request that had reached an
 * upstream that then died (reset, cut mid-answer) is not retried — it may
 * have had effects — and counts as failed: 502 if no answer had started,
 * else the client's connection is cut.
 */
export interface RoundRobinProxy {
  readonly url: string;
  /** Per upstream (by its URL): requests that reached it, those of them that failed there, and connections it refused (tried elsewhere). */
  stats(): ReadonlyMap<string, { readonly forwarded: number; readonly failed: number; readonly refused: number }>;
  /** Stops listening and cuts every connection. */
  close(): Promise<void>;
}

/** How long an upstream that refused a connection is left out of the rotation. */
export const DEFAULT_DOWN_FOR_MS = 2_000;
/** Bound on one forwarded request, answer included. */
const UPSTREAM_TIMEOUT_MS = 30_000;
/** Hop-by-hop headers (RFC 9110 §7.6.1): they belong to one connection, never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/** Options of {@link startRoundRobinProxy}. */
export interface RoundRobinProxyOptions {
  /** Base URLs (`http://127.0.0.1:port`) of the upstreams, in rotation order. */
  readonly upstreams: readonly string[];
  /** Sees each request as it arrives (a test that captures what a gateway sent). */
  readonly onRequest?: (request: IncomingMessage) => void;
  /** Default {@link DEFAULT_DOWN_FOR_MS}. */
  readonly downForMs?: number;
}

/**
 * Starts a {@link RoundRobinProxy} on 127.0.0.1 (any free port).
 *
 * @example
 * const proxy = await startRoundRobinProxy({ upstreams: replicas.map((replica) => replica.url) });
 * await fetch(`${proxy.url}/graphql`, { method: 'POST', … }); // to the first, then the second, …
 */
export async function startRoundRobinProxy(options: RoundRobinProxyOptions): Promise<RoundRobinProxy> {
  if (options.upstreams.length === 0) throw new TypeError('startRoundRobinProxy: give at least one upstream');
  const upstreams = options.upstreams.map((url) => ({ url, target: new URL(url), downUntil: 0, forwarded: 0, failed: 0, refused: 0 }));
  const downForMs = options.downForMs ?? DEFAULT_DOWN_FOR_MS;
  let next = 0;
  const sockets = new Set<Socket>();

  /** The next upstream not marked down, starting after the last one used; `undefined` when all are down or tried. */
  const pick = (tried: ReadonlySet<number>): number | undefined => {
    for (let step = 0; step < upstreams.length; step += 1) {
      const index = (next + step) % upstreams.length;
      if (tried.has(index) || upstreams[index]!.downUntil > Date.now()) continue;
      next = (index + 1) % upstreams.length;
      return index;
    }
    return undefined;
  };

  const server: Server = createServer(async (incoming, outgoing) => {
    options.onRequest?.(incoming);
    // Buffered once, so a request refused by one upstream can be sent whole to the next.
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of incoming) chunks.push(chunk as Buffer);
    } catch {
      outgoing.destroy();
      return;
    }
    const body = Buffer.concat(chunks);
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(incoming.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
    if (body.length > 0) headers['content-length'] = String(body.length);

    const tried = new Set<number>();
    for (;;) {
      const index = pick(tried);
      if (index === undefined) {
        outgoing.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end('no upstream is up\n');
        return;
      }
      tried.add(index);
      const upstream = upstreams[index]!;
      const outcome = await new Promise<'answered' | 'refused'>((resolve) => {
        const forward = httpRequest(
          { host: upstream.target.hostname, port: upstream.target.port, method: incoming.method, path: incoming.url, headers, timeout: UPSTREAM_TIMEOUT_MS },
          (answer) => {
            upstream.forwarded += 1;
            const answerHeaders: OutgoingHttpHeaders = {};
            for (const [name, value] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) answerHeaders[name] = value;
            outgoing.writeHead(answer.statusCode ?? 502, answerHeaders);
            answer.pipe(outgoing);
            answer.once('error', () => outgoing.destroy());
            answer.once('aborted', () => outgoing.destroy());
            resolve('answered');
          },
        );
        forward.once('timeout', () => forward.destroy(new Error('upstream timeout')));
        forward.once('error', (error: NodeJS.ErrnoException) => {
          if (error.code === 'ECONNREFUSED') {
            upstream.refused += 1;
            upstream.downUntil = Date.now() + downForMs;
            resolve('refused');
            return;
          }
          upstream.forwarded += 1;
          upstream.failed += 1;
          if (!outgoing.headersSent) outgoing.writeHead(502, { 'content-type': 'text/plain' }).end('the upstream failed\n');
          else outgoing.destroy();
          resolve('answered');
        });
        forward.end(body);
      });
      if (outcome === 'answered') return;
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => new Map(upstreams.map((upstream) => [upstream.url, { forwarded: upstream.forwarded, failed: upstream.failed, refused: upstream.refused }])),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

import { createServer, connect, type Server, type Socket } from 'node:net';
import { listenOnLoopback } from '../systems/listen-on-loopback.ts';

/** A TCP proxy in front of a PostgreSQL server that counts the queries sent through it. */
export interface CountingPgProxy {
  /** The target's connection string with host and port replaced by the proxy's. */
  readonly url: string;
  /** Queries received so far: simple-protocol `Query` messages plus extended-protocol `Sync`s (one per parameterised query). */
  queryCount(): number;
  close(): Promise<void>;
}

// Untyped messages of the start-up phase are told apart by this code (PostgreSQL protocol, "Message Formats").
const SSL_REQUEST = 80_877_103;
const GSSENC_REQUEST = 80_877_104;
const QUERY = 0x51; // 'Q'
const SYNC = 0x53; // 'S'

/**
 * Starts a proxy on 127.0.0.1 that forwards bytes both ways unchanged and
 * reads the frontend's messages as they pass, to count queries at the
 * bureau's door rather than trusting each client to count its own.
 *
 * Why Sync: `pg` sends a parameterised query as Parse, Bind, Describe,
 * Execute, Sync, and a query without parameters as one `Query`; each is one
 * round trip to the database.
 *
 * @example
 * const proxy = await startCountingPgProxy(hrss.url);
 * const pool = new pg.Pool({ connectionString: proxy.url, max: 1 });
 * proxy.queryCount();
 */
export async function startCountingPgProxy(targetUrl: string): Promise<CountingPgProxy> {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port || 5432);
  const targetHost = target.hostname.replace(/^\[(.*)\]$/, '$1');
  let queries = 0;
  const sockets = new Set<Socket>();

  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    sockets.add(client).add(upstream);
    const count = createFrontendCounter(() => {
      queries += 1;
    });
    client.on('data', count);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = (socket: Socket) => () => {
      sockets.delete(socket);
      socket.destroy();
    };
    client.on('close', end(upstream));
    upstream.on('close', end(client));
    // An error on either side ends both; the client sees its connection drop, as with the database itself.
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  const listening = new URL(await listenOnLoopback(server));
  const url = new URL(targetUrl);
  url.hostname = listening.hostname;
  url.port = listening.port;
  return {
    url: url.toString(),
    queryCount: () => queries,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Reads a frontend's byte stream message by message: first the untyped
 * start-up messages (length, code), then typed ones (type byte, length).
 * Only headers are looked at; bodies are skipped by length.
 */
function createFrontendCounter(onQuery: () => void): (chunk: Buffer) => void {
  let startup = true;
  let skip = 0;
  let header = Buffer.alloc(0);
  return (chunk) => {
    let offset = 0;
    while (offset < chunk.length) {
      if (skip > 0) {
        const skipped = Math.min(skip, chunk.length - offset);
        skip -= skipped;
        offset += skipped;
        continue;
      }
      const headerSize = startup ? 8 : 5;
      const needed = headerSize - header.length;
      const taken = chunk.subarray(offset, offset + needed);
      header = Buffer.concat([header, taken]);
      offset += taken.length;
      if (header.length < headerSize) return;
      if (startup) {
        const length = header.readInt32BE(0);
        const code = header.readInt32BE(4);
        // After an SSL or GSS request another untyped start-up message follows.
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) startup = false;
        skip = length - 8;
      } else {
        const type = header[0];
        if (type === QUERY || type === SYNC) onQuery();
        skip = header.readInt32BE(1) - 4;
      }
      header = Buffer.alloc(0);
    }
  };
}

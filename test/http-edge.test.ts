import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleQuery, sampleResident } from '../examples/demo-city.ts';
import { REFUSED_BODY_DRAIN_BYTES } from '../gateway/http/request-listener.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';

/** The body limit of this file's gateway: small, so that bodies near it are cheap to make. */
const MAX_BODY_BYTES = 65_536;
/** Three bodies of the limit: enough to fill it with requests held open, and to show a small one still fits. */
const MAX_BODY_BYTES_IN_FLIGHT = 3 * MAX_BODY_BYTES;
/**
 * Refused uploads are 4 MiB: more than loopback's socket buffers here take
 * in (2 MB fit in them, and a client that reads only after sending never
 * noticed the reset), so a gateway that closes early does lose answers.
 */
const REFUSED_UPLOAD_BYTES = 4 * 1_048_576;
const CONCURRENT_UPLOADS = 50;
/** Every request in this file is bounded: a client that hears nothing by then counts as failed. */
const REQUEST_TIMEOUT_MS = 60_000;

/** What a client made of one request: the answer it read, or the socket error that came first. */
type Outcome = { readonly status: number; readonly headers: IncomingHttpHeaders; readonly body: Buffer } | { readonly error: string };

/** A client that reads while it sends (node's http client): it writes with backpressure and takes the answer whenever it comes. */
function uploadReadingWhileSending(url: string, bytes: number, chunked: boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    const request = httpRequest(`${url}/graphql`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(bytes) }) },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const settle = once(resolve);
    request.on('response', (response) => {
      const received: Buffer[] = [];
      response.on('data', (chunk: Buffer) => received.push(chunk));
      response.on('end', () => settle({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(received) }));
      response.on('error', (error: NodeJS.ErrnoException) => settle({ error: error.code ?? error.message }));
    });
    // Once the answer is read, a later write error is the gateway's bounded cut-off, not a lost answer.
    request.on('error', (error: NodeJS.ErrnoException) => settle({ error: error.code ?? error.message }));
    writeBody(bytes, (chunk) => request.write(chunk), (more) => request.once('drain', more), () => request.end());
  });
}

/**
 * A client that reads only once it has sent its whole request, as Python's
 * http.client and Java's HttpURLConnection do: a raw socket, paused until the
 * last byte is written, then read to its end.
 */
function uploadThenRead(url: string, bytes: number, chunked: boolean): Promise<Outcome> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy(new Error('timeout')));
    const settle = once((outcome: Outcome) => {
      socket.destroy();
      resolve(outcome);
    });
    const received: Buffer[] = [];
    socket.on('error', (error: NodeJS.ErrnoException) => settle({ error: error.code ?? error.message }));
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('end', () => settle(parseClosedResponse(Buffer.concat(received))));
    socket.pause();
    const framing = chunked ? 'transfer-encoding: chunked' : `content-length: ${bytes}`;
    socket.write(`POST /graphql HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\n${framing}\r\n\r\n`);
    const frame = (chunk: Buffer): Buffer => (chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]) : chunk);
    writeBody(
      bytes,
      (chunk) => socket.write(frame(chunk)),
      (more) => socket.once('drain', more),
      () => socket.write(chunked ? '0\r\n\r\n' : '', () => socket.resume()),
    );
  });
}

/** Writes `bytes` spaces in 64 KiB pieces, waiting for `drain` whenever `write` says so, then calls `end`. */
function writeBody(bytes: number, write: (chunk: Buffer) => boolean, onDrain: (more: () => void) => void, end: () => void): void {
  const piece = Buffer.alloc(65_536, 0x20);
  let written = 0;
  const more = (): void => {
    while (written < bytes) {
      const size = Math.min(piece.length, bytes - written);
      written += size;
      if (!write(size === piece.length ? piece : piece.subarray(0, size))) return onDrain(more);
    }
    end();
  };
  more();
}

/** The answer of a connection the server closed after it: head, then a body with a Content-Length (the gateway's refusals have one). */
function parseClosedResponse(raw: Buffer): Outcome {
  const split = raw.indexOf('\r\n\r\n');
  if (split === -1) return { error: 'no complete answer' };
  const [statusLine = '', ...lines] = raw.subarray(0, split).toString('latin1').split('\r\n');
  const headers: IncomingHttpHeaders = {};
  for (const line of lines) headers[line.slice(0, line.indexOf(':')).trim().toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
  return { status: Number(statusLine.split(' ')[1]), headers, body: raw.subarray(split + 4) };
}

function once<T>(resolve: (value: T) => void): (value: T) => void {
  let settled = false;
  return (value) => {
    if (settled) return;
    settled = true;
    resolve(value);
  };
}

/** Tallies outcomes as `status code` or the socket error, so a failure shows every client's fate at once. */
function tally(outcomes: readonly Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) {
    const key = 'error' in outcome ? outcome.error : `${outcome.status} ${errorOf(outcome.body)?.extensions?.code ?? 'not-a-coded-error'}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

interface ErrorBody {
  readonly errors: readonly { readonly message: string; readonly extensions: Readonly<Record<string, unknown>> }[];
}

function errorOf(body: Buffer): ErrorBody['errors'][number] | undefined {
  try {
    return (JSON.parse(body.toString('utf8')) as ErrorBody).errors[0];
  } catch {
    return undefined;
  }
}

/** A GET with exactly these headers (no decompression, unlike fetch), its body as the bytes that came. */
function get(url: string, headers: Record<string, string>): Promise<{ readonly status: number; readonly headers: IncomingHttpHeaders; readonly body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers, agent: false, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }, (response) => {
      const received: Buffer[] = [];
      response.on('data', (chunk: Buffer) => received.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(received) }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

describe('the HTTP edge', () => {
  let city: TestCity;
  beforeAll(async () => {
    city = await startTestCity({ ISTHMUS_MAX_BODY_BYTES: String(MAX_BODY_BYTES), ISTHMUS_MAX_BODY_BYTES_IN_FLIGHT: String(MAX_BODY_BYTES_IN_FLIGHT) });
  });
  afterAll(async () => {
    await city?.close();
  });

  describe.each([
    ['reads while it sends', uploadReadingWhileSending],
    ['reads only once it has sent everything', uploadThenRead],
  ] as const)('a refused upload, from a client that %s', (_client, upload) => {
    it.each([
      ['with a Content-Length over the limit', false, 413, 'LIMIT_EXCEEDED', 'BODY_TOO_LARGE'],
      ['chunked, with no Content-Length', true, 411, 'BAD_USER_INPUT', 'LENGTH_REQUIRED'],
    ] as const)(`is answered readably for each of ${CONCURRENT_UPLOADS} concurrent uploads %s`, async (_kind, chunked, status, code, reason) => {
      const outcomes = await Promise.all(Array.from({ length: CONCURRENT_UPLOADS }, () => upload(city.gateway.url, REFUSED_UPLOAD_BYTES, chunked)));
      expect(tally(outcomes)).toEqual({ [`${status} ${code}`]: CONCURRENT_UPLOADS });
      for (const outcome of outcomes) {
        if ('error' in outcome) continue;
        expect(outcome.headers['content-type']).toMatch(/^application\/json/);
        expect(outcome.headers.connection).toBe('close');
        const error = errorOf(outcome.body)!;
        expect(error.extensions).toEqual({ code, reason, requestId: outcome.headers['x-request-id'] });
        expect(error.message).toMatch(/Content-Length|larger than 65536 bytes/);
      }
    });
  });

  it('cuts a refused upload that does not stop off once it has dropped the drain bound, after the client read why', async () => {
    // Far past the drain bound plus what loopback's socket buffers hold, so only the gateway can end this.
    const cap = 16 * REFUSED_BODY_DRAIN_BYTES;
    // A raw socket: node's own client stops sending by itself once it has read a `connection: close` answer.
    const { hostname, port } = new URL(city.gateway.url);
    const { status, written } = await new Promise<{ status: number | undefined; written: number }>((resolve) => {
      const socket = connect({ host: hostname, port: Number(port) });
      socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());
      let head = '';
      let written = 0;
      socket.on('data', (chunk: Buffer) => (head += chunk.toString('latin1')));
      socket.on('error', () => {});
      socket.once('close', () => resolve({ status: head.startsWith('HTTP/1.1 ') ? Number(head.slice(9, 12)) : undefined, written }));
      socket.write(`POST /graphql HTTP/1.1\r\nhost: ${hostname}:${port}\r\ntransfer-encoding: chunked\r\n\r\n`);
      writeBody(
        cap,
        (chunk) => ((written += chunk.length), !socket.destroyed && socket.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]))),
        (more) => socket.once('drain', more),
        () => socket.end('0\r\n\r\n'),
      );
    });
    expect(status).toBe(411);
    expect(written).toBeGreaterThan(REFUSED_BODY_DRAIN_BYTES);
    expect(written).toBeLessThan(cap);
  });

  describe('bodies in flight', () => {
    const resident = sampleResident();
    /** The demo's first query, padded with trailing blanks (still JSON) to exactly `bytes`. */
    const bodyOf = (bytes: number): Buffer => {
      const json = JSON.stringify({ query: sampleQuery(resident.idNumber) });
      return Buffer.from(json + ' '.repeat(bytes - Buffer.byteLength(json)));
    };
    /** A POST whose head is sent at once and whose body waits for `send`; `admitted` resolves on the gateway's 100 Continue. */
    const held = (bytes: number): { readonly admitted: Promise<void>; send(): Promise<Outcome> } => {
      const body = bodyOf(bytes);
      let request: ClientRequest;
      const answered = new Promise<Outcome>((resolve) => {
        request = httpRequest(`${city.gateway.url}/graphql`, {
          method: 'POST',
          agent: false,
          headers: { ...city.reviewer, 'content-type': 'application/json', accept: 'application/json', 'content-length': String(bytes), expect: '100-continue' },
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        request.on('response', (response) => {
          const received: Buffer[] = [];
          response.on('data', (chunk: Buffer) => received.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(received) }));
        });
        request.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
        request.flushHeaders();
      });
      // Node answers 100 Continue just before it hands the request to the gateway's listener, which admits it then.
      const admitted = new Promise<void>((resolve) => request.once('continue', resolve));
      return {
        admitted,
        send() {
          request.end(body);
          return answered;
        },
      };
    };
    const post = (bytes: number): Promise<Outcome> => held(bytes).send();
    const expectData = (outcome: Outcome): void => {
      expect(outcome).toMatchObject({ status: 200 });
      if ('error' in outcome) return;
      expect(JSON.parse(outcome.body.toString('utf8'))).toMatchObject({ data: { person: { name: resident.name } } });
    };

    it('answers 503 with retry-after past the bound, while bodies that fit are served', async () => {
      const holders = [held(60_000), held(60_000), held(60_000)];
      await Promise.all(holders.map((holder) => holder.admitted));

      // 180,000 of 196,608 bytes are held: 20,000 more do not fit, 1,000 do.
      const refused = await post(20_000);
      expect(refused).toMatchObject({ status: 503, headers: { 'retry-after': '1', 'content-type': expect.stringMatching(/^application\/json/) } });
      if ('error' in refused) return;
      expect(errorOf(refused.body)).toEqual({ message: expect.stringContaining('try again'), extensions: { code: 'LIMIT_EXCEEDED', reason: 'BODIES_IN_FLIGHT', requestId: refused.headers['x-request-id'] } });
      expectData(await post(1_000));

      for (const outcome of await Promise.all(holders.map((holder) => holder.send()))) expectData(outcome);
      // Their bytes are released with their answers: a body of the same size fits again.
      expectData(await post(60_000));
    });
  });

  describe("GraphiQL's page", () => {
    const browser = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
    let identity: Awaited<ReturnType<typeof get>>;
    beforeAll(async () => {
      identity = await get(`${city.gateway.url}/graphql`, browser);
    });

    it('is served whole to a client that accepts no compression, with an ETag and a cache policy', () => {
      expect(identity.status).toBe(200);
      expect(identity.headers).toMatchObject({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', vary: 'accept-encoding' });
      expect(identity.headers['content-encoding']).toBeUndefined();
      expect(identity.headers.etag).toMatch(/^"[\w-]+"$/);
      expect(identity.body.toString('utf8')).toContain('<title>Isthmus</title>');
      expect(Number(identity.headers['content-length'])).toBe(identity.body.length);
    });

    it.each([
      ['br', 'gzip, deflate, br', brotliDecompressSync],
      ['gzip', 'gzip, deflate', gunzipSync],
      ['gzip', 'br;q=0, gzip', gunzipSync],
    ] as const)('is sent %s-compressed for accept-encoding "%s", and decompresses to the page', async (encoding, acceptEncoding, decompress) => {
      const compressed = await get(`${city.gateway.url}/graphql`, { ...browser, 'accept-encoding': acceptEncoding });
      expect(compressed.status).toBe(200);
      expect(compressed.headers['content-encoding']).toBe(encoding);
      expect(compressed.body.length).toBeLessThan(identity.body.length / 3);
      expect(decompress(compressed.body).equals(identity.body)).toBe(true);
      expect(compressed.headers.etag).not.toBe(identity.headers.etag);
    });

    it('answers a repeat with If-None-Match with 304 and no body; a stale tag gets the page', async () => {
      const headers = { ...browser, 'accept-encoding': 'gzip, deflate, br' };
      const first = await get(`${city.gateway.url}/graphql`, headers);
      const again = await get(`${city.gateway.url}/graphql`, { ...headers, 'if-none-match': first.headers.etag! });
      expect(again.status).toBe(304);
      expect(again.body.length).toBe(0);
      expect(again.headers.etag).toBe(first.headers.etag);
      const stale = await get(`${city.gateway.url}/graphql`, { ...headers, 'if-none-match': '"an-older-page-br"' });
      expect(stale.status).toBe(200);
      expect(stale.body.equals(first.body)).toBe(true);
    });
  });
});

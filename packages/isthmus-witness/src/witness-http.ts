import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JournalRecord } from './journal-record.ts';
import type { Witness } from './witness.ts';
import { BodyTooLarge, isWitnessError, MethodNotAllowed, NotFound, OldSizeMismatch, RequestMalformed, WitnessInternal, type WitnessError } from './witness-error.ts';

/** The largest request body read (a checkpoint note is a few hundred bytes; 64 proof lines add 3 KB). */
export const DEFAULT_MAX_BODY_BYTES = 1_000_000;

/** Options of `createWitnessHandler`. */
export interface WitnessHandlerOptions {
  readonly maxBodyBytes?: number;
  /** Where unexpected failures are told (with their cause); clients get `INTERNAL` only. */
  readonly log: (message: string, cause?: unknown) => void;
}

/** A node:http request listener. */
export type WitnessHandler = (request: IncomingMessage, response: ServerResponse) => void;

function presentCheckpoint(record: JournalRecord) {
  return { origin: record.origin, size: record.size, note: record.note, final: record.final, cosignedAt: record.cosignedAt };
}

function send(response: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers });
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, value: unknown, headers?: Record<string, string>): void {
  send(response, status, 'application/json; charset=utf-8', JSON.stringify(value), headers);
}

function allowHeader(error: WitnessError, allow: string): Record<string, string> {
  return error instanceof MethodNotAllowed ? { allow } : {};
}

function readBody(request: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length'] ?? '0');
    if (declared > limit) {
      reject(new BodyTooLarge(`the body is larger than ${limit} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.removeAllListeners('data');
        request.resume();
        reject(new BodyTooLarge(`the body is larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      try {
        resolve(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks)));
      } catch {
        reject(new RequestMalformed('the body is not UTF-8'));
      }
    });
    request.on('error', reject);
  });
}

/**
 * The witness's HTTP API (contract §3): `POST /add-checkpoint` answers in
 * text (C2SP tlog-witness: 200 the signature lines, 409 `text/x.tlog.size`,
 * other refusals one line `<CODE>: <message>`); the GET routes answer JSON,
 * errors as `{"errors":[{"message","extensions":{"code"}}]}`.
 */
export function createWitnessHandler(witness: Witness, options: WitnessHandlerOptions): WitnessHandler {
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  function asWitnessError(error: unknown): WitnessError {
    if (isWitnessError(error)) {
      if (error instanceof WitnessInternal) options.log(`witness: ${error.message}`, error.cause);
      return error;
    }
    options.log('witness: unexpected failure', error);
    return new WitnessInternal('the witness failed; see its log');
  }

  async function addCheckpoint(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      if (request.method !== 'POST') throw new MethodNotAllowed('use POST');
      const signature = await witness.addCheckpoint(await readBody(request, limit));
      send(response, 200, 'text/plain; charset=utf-8', signature);
    } catch (caught) {
      const error = asWitnessError(caught);
      if (error instanceof OldSizeMismatch) {
        send(response, 409, 'text/x.tlog.size', `${String(error.latestSize)}\n`);
        return;
      }
      // A body left unread would be taken for the next request on the connection.
      const close: Record<string, string> = error instanceof BodyTooLarge ? { connection: 'close' } : {};
      send(response, error.status, 'text/plain; charset=utf-8', `${error.code}: ${error.message.replace(/\s+/gu, ' ')}\n`, { ...close, ...allowHeader(error, 'POST') });
    }
  }

  async function get(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') throw new MethodNotAllowed('use GET');
    switch (url.pathname) {
      case '/healthz':
        send(response, 200, 'text/plain; charset=utf-8', 'ok\n');
        return;
      case '/.well-known/isthmus-witness-keys':
        sendJson(response, 200, witness.keyList());
        return;
      case '/checkpoints': {
        const prefix = url.searchParams.get('prefix') ?? undefined;
        sendJson(response, 200, { witness: witness.name, checkpoints: witness.latest(prefix).map(presentCheckpoint) });
        return;
      }
      case '/checkpoints/history': {
        const origin = url.searchParams.get('origin');
        if (origin === null || origin === '') throw new RequestMalformed('name the origin: ?origin=<origin>');
        const records = await witness.history(origin);
        sendJson(response, 200, { witness: witness.name, origin, checkpoints: records.map(presentCheckpoint) });
        return;
      }
      default:
        throw new NotFound('no such route');
    }
  }

  return (request, response) => {
    const url = new URL(request.url ?? '/', 'http://witness.invalid');
    if (url.pathname === '/add-checkpoint') {
      void addCheckpoint(request, response);
      return;
    }
    get(request, response, url).catch((caught: unknown) => {
      const error = asWitnessError(caught);
      sendJson(response, error.status, { errors: [{ message: error.message, extensions: { code: error.code } }] }, allowHeader(error, 'GET, HEAD'));
    });
  };
}

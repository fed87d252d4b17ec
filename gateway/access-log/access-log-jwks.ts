import { readFile, stat } from 'node:fs/promises';
import { calculateJwkThumbprint, type JWK } from 'jose';

/** Where the gateway publishes the public keys of its access log checkpoints, current and past. */
export const ACCESS_LOG_JWKS_PATH = '/.well-known/isthmus-log-jwks.json';
/** How long fetching a JWKS URL may take. */
export const DEFAULT_JWKS_TIMEOUT_MS = 10_000;
/** Largest JWKS read: a key set is a few KiB; anything far larger is not one. */
export const MAX_JWKS_BYTES = 1_048_576;

/** Every code of {@link AccessLogJwksError}, so a `switch` over them is exhaustive. */
export type AccessLogJwksErrorCode = 'JWKS_UNREACHABLE' | 'JWKS_NOT_JSON' | 'JWKS_INVALID' | 'JWKS_EMPTY';

/** The key set an auditor named cannot be used; the message names the source and what is wrong with it. */
export class AccessLogJwksError extends Error {
  readonly code: AccessLogJwksErrorCode;
  /** The URL or file as given. */
  readonly source: string;
  constructor(code: AccessLogJwksErrorCode, source: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AccessLogJwksError';
    this.code = code;
    this.source = source;
  }
}

/**
 * Reads the checkpoint keys an auditor trusts from an `http(s)://` URL (the
 * gateway's {@link ACCESS_LOG_JWKS_PATH}, or a copy kept elsewhere) or a
 * file, as `{"keys": [...]}` or a bare array. A key without `kid` is named
 * by its RFC 7638 thumbprint, which is the kid the gateway signs with.
 *
 * @example
 * const keys = await loadAccessLogJwks('http://127.0.0.1:4000/.well-known/isthmus-log-jwks.json', { signal });
 * @throws AccessLogJwksError: `JWKS_UNREACHABLE` (no answer, not 200, no such file), `JWKS_NOT_JSON`,
 *   `JWKS_INVALID` (JSON but not a key set), `JWKS_EMPTY` (no keys).
 */
export async function loadAccessLogJwks(source: string, options: { readonly signal?: AbortSignal; readonly timeoutMs?: number } = {}): Promise<readonly JWK[]> {
  const text = /^https?:\/\//i.test(source) ? await fetchText(source, options) : await readText(source, options.signal);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new AccessLogJwksError('JWKS_NOT_JSON', source, `the JWKS ${source} is not JSON`, { cause });
  }
  const keys = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new AccessLogJwksError('JWKS_INVALID', source, `the JWKS ${source} is not a key set: it has no "keys" array`);
  if (keys.length === 0) throw new AccessLogJwksError('JWKS_EMPTY', source, `the JWKS ${source} has no keys, so no checkpoint can be checked against it`);
  return Promise.all(
    keys.map(async (key: unknown, index) => {
      if (typeof key !== 'object' || key === null || typeof (key as JWK).kty !== 'string') {
        throw new AccessLogJwksError('JWKS_INVALID', source, `the JWKS ${source} is not a key set: key ${index} is not a JWK`);
      }
      const jwk = key as JWK;
      if (typeof jwk.kid === 'string') return jwk;
      try {
        return { ...jwk, kid: await calculateJwkThumbprint(jwk) };
      } catch (cause) {
        throw new AccessLogJwksError('JWKS_INVALID', source, `the JWKS ${source} is not a key set: key ${index} has no kid and is not a public key`, { cause });
      }
    }),
  );
}

async function fetchText(url: string, options: { readonly signal?: AbortSignal; readonly timeoutMs?: number }): Promise<string> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS;
  const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])]);
  const unreachable = (why: string, cause?: unknown) => new AccessLogJwksError('JWKS_UNREACHABLE', url, `cannot fetch the JWKS ${url} (${why})`, { cause });
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'follow', signal });
  } catch (cause) {
    throw unreachable(signal.aborted && !options.signal?.aborted ? `no answer within ${timeoutMs} ms` : 'connection failed', cause);
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => {});
    throw unreachable(`HTTP ${response.status}`);
  }
  try {
    return await boundedText(response);
  } catch (cause) {
    if (cause instanceof AccessLogJwksError) throw cause;
    throw unreachable('the answer was cut off', cause);
  }

  async function boundedText(answer: Response): Promise<string> {
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (!answer.body) return '';
    for await (const chunk of answer.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > MAX_JWKS_BYTES) {
        await answer.body?.cancel().catch(() => {});
        throw new AccessLogJwksError('JWKS_INVALID', url, `the JWKS ${url} is larger than ${MAX_JWKS_BYTES} bytes: not a key set`);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}

async function readText(file: string, signal: AbortSignal | undefined): Promise<string> {
  try {
    if ((await stat(file)).size > MAX_JWKS_BYTES) throw new AccessLogJwksError('JWKS_INVALID', file, `the JWKS ${file} is larger than ${MAX_JWKS_BYTES} bytes: not a key set`);
    return await readFile(file, { encoding: 'utf8', signal });
  } catch (cause) {
    if (cause instanceof AccessLogJwksError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    throw new AccessLogJwksError('JWKS_UNREACHABLE', file, `cannot read the JWKS file ${file} (${code === 'ENOENT' ? 'no such file' : (code ?? 'failed')})`, { cause });
  }
}

import { TimestampTimeout, TimestampUnavailable } from './timestamp-error.ts';
import { createTimestampRequest } from './timestamp-request.ts';
import type { TimestampSettings } from './timestamp-settings.ts';
import { parseTimestampResponse } from './timestamp-token.ts';
import { verifyTimestampToken, type VerifiedTimestamp } from './timestamp-verify.ts';

/** Options of {@link requestTimestamp}. */
export interface RequestTimestampOptions {
  /** Cancels the exchange (e.g. the gateway is shutting down). */
  readonly signal?: AbortSignal;
}

/**
 * Asks the TSA of `settings` to stamp `text` (RFC 3161 over HTTP, §3.4):
 * POSTs a TimeStampReq as `application/timestamp-query` and reads the
 * `application/timestamp-reply`, within `settings.timeoutMs` for the whole
 * exchange and at most `settings.maxResponseBytes`. Returns the token only
 * once it verified against the text, the request's nonce and the trusted CAs.
 *
 * Throws {@link TimestampTimeout}, {@link TimestampUnavailable} (network,
 * HTTP status, size, cancelled), or what parsing and verification throw
 * (`TIMESTAMP_MALFORMED`, `TIMESTAMP_REFUSED`, `TIMESTAMP_INVALID`).
 *
 * @example
 * const stamp = await requestTimestamp(settings, checkpointNote, { signal });
 */
export async function requestTimestamp(settings: TimestampSettings, text: string, options: RequestTimestampOptions = {}): Promise<VerifiedTimestamp> {
  const request = createTimestampRequest(text);
  const timeout = AbortSignal.timeout(settings.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let body: Uint8Array;
  try {
    const response = await fetch(settings.url, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
      body: new Uint8Array(request.der),
      redirect: 'error',
      signal,
    });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      throw new TimestampUnavailable(`the timestamp authority answered HTTP ${response.status}`);
    }
    const type = response.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/timestamp-reply' && type !== 'application/timestamp-response') {
      await response.body?.cancel().catch(() => {});
      throw new TimestampUnavailable('the timestamp authority did not answer application/timestamp-reply');
    }
    body = await readBounded(response, settings.maxResponseBytes);
  } catch (error) {
    if (timeout.aborted) throw new TimestampTimeout(settings.timeoutMs, { cause: error });
    if (error instanceof TimestampUnavailable) throw error;
    if (options.signal?.aborted) throw new TimestampUnavailable('the timestamp request was cancelled', { cause: error });
    throw new TimestampUnavailable('the timestamp authority could not be reached', { cause: error });
  }
  return verifyTimestampToken(parseTimestampResponse(body), { text, trusted: settings.trusted, nonce: request.nonce });
}

async function readBounded(response: Response, limit: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? 'NaN');
  if (declared > limit) {
    await response.body?.cancel().catch(() => {});
    throw new TimestampUnavailable(`the timestamp authority's answer is larger than ${limit} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body?.getReader();
  for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) {
    total += read.value.length;
    if (total > limit) {
      await reader?.cancel().catch(() => {});
      throw new TimestampUnavailable(`the timestamp authority's answer is larger than ${limit} bytes`);
    }
    chunks.push(read.value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

import { IssuerMisconfigured, KeysUnavailable } from './auth-error.ts';
import { isFetchableUrl } from './issuer-key-source.ts';

/** A discovery document or key set larger than this is not one: real ones are a few kilobytes. */
export const MAX_KEY_DOCUMENT_BYTES = 1_048_576;

/** Options of {@link fetchKeyDocument}. */
export interface FetchKeyDocumentOptions {
  /** The issuer the document belongs to, for messages and the errors' `issuer`. */
  readonly issuer: string;
  /** What is fetched, for messages: `discovery document`, `key set`. */
  readonly what: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/**
 * GETs a JSON document of an identity provider (its discovery document or
 * its key set) and sorts every failure into one of two kinds: one that
 * passes ({@link KeysUnavailable}: no answer, a timeout, a 5xx, 408 or 429)
 * and one that will not ({@link IssuerMisconfigured}: another 4xx, a body
 * that is not a JSON object, a redirect to plain HTTP). The first is a
 * retryable 503 for requests; the second makes `/readyz` not ready.
 *
 * @example
 * const document = await fetchKeyDocument(new URL(jwksUri), { issuer, what: 'key set', timeoutMs: 3_000 });
 */
export async function fetchKeyDocument(url: URL, options: FetchKeyDocumentOptions): Promise<Readonly<Record<string, unknown>>> {
  const { issuer, what, timeoutMs } = options;
  const at = where(url);
  const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json' }, signal, redirect: 'follow' });
  } catch (error) {
    options.signal?.throwIfAborted();
    if (error instanceof Error && error.name === 'TimeoutError') throw new KeysUnavailable(`issuer ${issuer}'s ${what} did not arrive from ${at} within ${timeoutMs} ms`, { issuer, cause: error });
    throw new KeysUnavailable(`issuer ${issuer}'s ${what} could not be fetched from ${at}: the request failed`, { issuer, cause: error });
  }
  let text: string;
  try {
    if (response.redirected && !isFetchableUrl(new URL(response.url))) {
      throw new IssuerMisconfigured(`issuer ${issuer}'s ${what} at ${at} redirects to plain http`, { issuer });
    }
    if (response.status !== 200) {
      const passing = response.status >= 500 || response.status === 408 || response.status === 429;
      const message = `issuer ${issuer}'s ${what} could not be fetched from ${at}: it answered ${response.status}`;
      throw passing ? new KeysUnavailable(message, { issuer }) : new IssuerMisconfigured(message, { issuer });
    }
    const length = Number(response.headers.get('content-length') ?? 0);
    if (length > MAX_KEY_DOCUMENT_BYTES) throw new IssuerMisconfigured(`issuer ${issuer}'s ${what} at ${at} is larger than ${MAX_KEY_DOCUMENT_BYTES} bytes`, { issuer });
    text = await response.text();
  } catch (error) {
    await response.body?.cancel().catch(() => {});
    if (error instanceof IssuerMisconfigured || error instanceof KeysUnavailable) throw error;
    options.signal?.throwIfAborted();
    throw new KeysUnavailable(`issuer ${issuer}'s ${what} from ${at} was cut short`, { issuer, cause: error });
  }
  if (text.length > MAX_KEY_DOCUMENT_BYTES) throw new IssuerMisconfigured(`issuer ${issuer}'s ${what} at ${at} is larger than ${MAX_KEY_DOCUMENT_BYTES} bytes`, { issuer });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new IssuerMisconfigured(`issuer ${issuer}'s ${what} at ${at} is not JSON`, { issuer });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new IssuerMisconfigured(`issuer ${issuer}'s ${what} at ${at} is not a JSON object`, { issuer });
  return parsed as Record<string, unknown>;
}

/** A provider's address without query or credentials, which some deployments put there. */
export function where(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

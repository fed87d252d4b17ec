import { BureauImportError } from './bureau-import-error.ts';

/** A URL as a message may show it: scheme, host and path, never credentials or a query (they may hold a key). */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return 'the given URL';
  }
}

/**
 * One JSON request for an import, bounded by `init.signal`. An address that
 * cannot be reached, an HTTP error or a body that is not JSON is a
 * {@link BureauImportError} naming the URL (without credentials or query).
 */
export async function fetchJson(url: string, init: RequestInit & { readonly signal: AbortSignal }): Promise<unknown> {
  const where = describeUrl(url);
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    const reason = init.signal.aborted ? 'did not answer in time' : 'cannot be reached';
    throw new BureauImportError('IMPORT_UNREACHABLE', where, reason, { cause: error });
  }
  const text = await response.text();
  if (!response.ok) throw new BureauImportError('IMPORT_UNREACHABLE', where, `answered HTTP ${response.status}`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BureauImportError('IMPORT_BAD_DOCUMENT', where, 'did not answer JSON', { cause: error });
  }
}

import { IssuerMisconfigured } from './auth-error.ts';
import { fetchKeyDocument, where } from './fetch-key-document.ts';
import { isFetchableUrl } from './issuer-key-source.ts';

/** The path OpenID Connect Discovery 1.0 (§4) appends to the issuer. */
export const DISCOVERY_PATH = '/.well-known/openid-configuration';

/** Where an issuer's discovery document is: the issuer, without a trailing slash, then {@link DISCOVERY_PATH}. */
export function discoveryUrl(issuer: string): URL {
  return new URL(`${issuer.replace(/\/$/, '')}${DISCOVERY_PATH}`);
}

/**
 * Reads an issuer's OpenID Connect discovery document and returns its
 * `jwks_uri`. The document's `issuer` must be the configured issuer
 * exactly (OpenID Connect Discovery §4.3): a document that names another
 * would let whoever serves it choose the keys. `jwks_uri` must be https
 * (http only on loopback), like any configured key set URL.
 *
 * @example
 * const jwksUri = await discoverJwksUri('https://sso.city.example/realms/hrss', { timeoutMs: 3_000 });
 * @throws IssuerMisconfigured when the document can never yield keys; KeysUnavailable when it is out of reach now.
 */
export async function discoverJwksUri(issuer: string, options: { readonly timeoutMs: number; readonly signal?: AbortSignal }): Promise<URL> {
  const url = discoveryUrl(issuer);
  const document = await fetchKeyDocument(url, { issuer, what: 'discovery document', ...options });
  if (document.issuer !== issuer) {
    const named = typeof document.issuer === 'string' ? JSON.stringify(document.issuer.slice(0, 200)) : 'no issuer';
    throw new IssuerMisconfigured(`issuer ${issuer}'s discovery document at ${where(url)} names ${named}: it must name the configured issuer exactly`, { issuer });
  }
  const jwksUri = document.jwks_uri;
  if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri)) {
    throw new IssuerMisconfigured(`issuer ${issuer}'s discovery document at ${where(url)} has no jwks_uri (an absolute URL of its key set)`, { issuer });
  }
  const keys = new URL(jwksUri);
  if (!isFetchableUrl(keys)) throw new IssuerMisconfigured(`issuer ${issuer}'s discovery document names a jwks_uri that is not https (${where(keys)})`, { issuer });
  return keys;
}

/**
 * Where an issuer's public keys come from, as `ISTHMUS_ISSUERS` says it:
 * a `jwksUrl`, configured `keys`, or — with neither — OpenID Connect
 * discovery from the issuer URL itself; and how often the key set is
 * fetched again. Checked with the rest of the issuer (`issuer-config.ts`).
 */

/** Longest JWKS cooldown accepted: past ten minutes a rotation would be refused (retryably) for longer than any client waits. */
export const MAX_JWKS_COOLDOWN_SECONDS = 600;
/** Bounds of the background refresh: not a busy loop against the provider, and at least daily. */
export const MIN_JWKS_REFRESH_SECONDS = 10;
export const MAX_JWKS_REFRESH_SECONDS = 86_400;

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** The key-source settings of one issuer, checked. */
export interface KeySourceSettings {
  /** Where its public keys are published, when configured directly. */
  readonly jwksUrl: string | undefined;
  /** True when neither `jwksUrl` nor `keys` is set: `jwks_uri` comes from `<issuer>/.well-known/openid-configuration`. */
  readonly discovery: boolean;
  /** `jwksCooldownSeconds`: undefined leaves the verifier's default. */
  readonly jwksCooldownSeconds: number | undefined;
  /** `jwksRefreshSeconds`: undefined leaves the verifier's default. */
  readonly jwksRefreshSeconds: number | undefined;
}

type Problem = (setting: string, text: string) => void;

/**
 * Checks `jwksUrl`, the discovery case and the two timings of an issuer
 * entry. `keys` itself is checked by the caller; this only needs to know
 * whether it is there.
 */
export function checkKeySource(entry: Readonly<Record<string, unknown>>, issuer: string | undefined, hmac: boolean, problem: Problem): KeySourceSettings {
  let jwksUrl: string | undefined;
  if (entry.jwksUrl !== undefined) {
    jwksUrl = checkFetchUrl(entry.jwksUrl, 'jwksUrl', problem);
    if (hmac) problem('jwksUrl', 'cannot be used with HMAC algorithms: their shared secret goes in keys');
    if (entry.keys !== undefined) problem('keys', 'and jwksUrl are both set: choose one');
  }
  const discovery = entry.jwksUrl === undefined && entry.keys === undefined;
  if (discovery) {
    if (hmac) problem('keys', 'is required: the shared secret (at least 32 bytes)');
    // The issuer URL itself is fetched: the same rules as a jwksUrl, and OpenID Connect's (no query, no fragment).
    else if (issuer !== undefined) checkFetchUrl(issuer, 'issuer', problem, ' (with neither keys nor jwksUrl, its keys are found through OpenID Connect discovery at <issuer>/.well-known/openid-configuration)');
  }
  const remote = jwksUrl !== undefined || discovery;
  const seconds = (setting: 'jwksCooldownSeconds' | 'jwksRefreshSeconds', min: number, max: number): number | undefined => {
    const value = entry[setting];
    if (value === undefined) return undefined;
    if (!remote) {
      problem(setting, 'applies only to keys fetched from a jwksUrl or through discovery');
      return undefined;
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      problem(setting, `must be a whole number of seconds from ${min} to ${max}`);
      return undefined;
    }
    return value;
  };
  return {
    jwksUrl,
    discovery: discovery && !hmac,
    jwksCooldownSeconds: seconds('jwksCooldownSeconds', 0, MAX_JWKS_COOLDOWN_SECONDS),
    jwksRefreshSeconds: seconds('jwksRefreshSeconds', MIN_JWKS_REFRESH_SECONDS, MAX_JWKS_REFRESH_SECONDS),
  };
}

/**
 * True for a URL keys may be fetched from: https, or http on a loopback
 * host (tests, the demo). Keys fetched in clear text can be swapped in transit.
 */
export function isFetchableUrl(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}

function checkFetchUrl(value: unknown, setting: string, problem: Problem, why = ''): string | undefined {
  if (typeof value !== 'string' || !URL.canParse(value)) {
    problem(setting, `must be an absolute URL${why}`);
    return undefined;
  }
  const url = new URL(value);
  if (!isFetchableUrl(url)) {
    problem(setting, `must use https (http only on 127.0.0.1, ::1 or localhost)${why}`);
    return undefined;
  }
  if (setting === 'issuer' && (url.search !== '' || url.hash !== '')) {
    problem(setting, `must have no query or fragment${why}`);
    return undefined;
  }
  return url.href;
}

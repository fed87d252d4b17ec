import { createLocalJWKSet, errors, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from 'jose';
import { AuthError, IssuerMisconfigured, KeyNotYetKnown, KeysUnavailable } from './auth-error.ts';
import { fetchKeyDocument, where } from './fetch-key-document.ts';
import { discoverJwksUri, discoveryUrl } from './oidc-discovery.ts';
import { quote } from './to-auth-error.ts';

/**
 * After a fetch triggered by an unknown `kid`, how long before a token may
 * trigger another: made-up `kid`s must not turn the gateway into a flood
 * against the identity provider (at most one such fetch per cooldown and issuer).
 */
export const DEFAULT_JWKS_COOLDOWN_MS = 5_000;
/** How often the key set (and the discovery document) is fetched again in the background. */
export const DEFAULT_JWKS_REFRESH_MS = 300_000;
/** While the last fetch failed, the background tries again this often (or at the refresh interval, if sooner). */
export const FAILED_REFRESH_RETRY_MS = 10_000;
/** `kid`s remembered as "seen while unknown"; past it the oldest is forgotten. Bounded against made-up `kid`s. */
const MAX_UNKNOWN_KIDS = 1_024;
const MAX_KID_REMEMBERED = 256;

/** Options of {@link createRemoteKeySet}. */
export interface RemoteKeySetOptions {
  readonly issuer: string;
  /** The key set's URL; undefined to discover it from the issuer's `/.well-known/openid-configuration`. */
  readonly jwksUrl: string | undefined;
  /** The issuer's `alg` allow-list: a key set with no key for any of them serves no key set. */
  readonly algorithms: readonly string[];
  readonly cooldownMs: number;
  readonly refreshMs: number;
  /** Bound on each fetch. */
  readonly timeoutMs: number;
  readonly now: () => number;
  /** Told when a fetch fails for a reason other than the last failure's (a log line per change, not per retry). */
  readonly onFailure?: (status: KeySetStatus) => void;
}

/** What `/readyz` shows of one issuer's keys. */
export interface KeySetStatus {
  readonly issuer: string;
  /** `ready`: keys in hand; `loading`: the first fetch is under way; `unreachable`: it failed and may pass; `misconfigured`: it cannot work. */
  readonly state: 'loading' | 'ready' | 'unreachable' | 'misconfigured';
  /** Why the last fetch failed, when it did (keys in hand are still used). */
  readonly reason?: string;
  /** Where the keys come from: the configured URL, or the one discovery found. */
  readonly jwksUri?: string;
  readonly keys: number;
  readonly fetchedAt?: string;
}

/** An issuer's remote key set: a jose key getter with rotation handled, and its state. */
export interface RemoteKeySet {
  /** For `jwtVerify`: the key the token's header names. Throws `KeyNotYetKnown` for a new `kid` inside the cooldown. */
  readonly getKey: JWTVerifyGetKey;
  /** The key set's URL as known now (for messages), or the discovery document's while none is. */
  where(): string;
  /** Fetches now and then every refresh interval, in the background; timers do not hold the process open. */
  start(): void;
  close(): void;
  status(): KeySetStatus;
}

/**
 * Keys fetched from an issuer, kept and refreshed so that a rotation is
 * never read as a forgery. A token whose `kid` the key set lacks triggers a
 * refetch at once when the cooldown allows; inside the cooldown it is
 * refused with `KEY_NOT_YET_KNOWN` (a 503 with `retry-after`, the end of the
 * cooldown), unless a fetch made after the `kid` was first seen still
 * lacked it — then it is `SIGNATURE_INVALID`: not a key of the issuer.
 * A failed refresh keeps the keys in hand. Fetches are shared: concurrent
 * tokens wait for the one under way.
 *
 * @example
 * const keys = createRemoteKeySet({ issuer, jwksUrl: undefined, algorithms: ['RS256'], cooldownMs: 5_000, refreshMs: 300_000, timeoutMs: 3_000, now: Date.now });
 * keys.start();
 * await jwtVerify(token, keys.getKey, { issuer });
 */
export function createRemoteKeySet(options: RemoteKeySetOptions): RemoteKeySet {
  const { issuer, cooldownMs, refreshMs, timeoutMs, now } = options;
  let jwksUri: URL | undefined = options.jwksUrl === undefined ? undefined : new URL(options.jwksUrl);
  let local: ReturnType<typeof createLocalJWKSet> | undefined;
  let keyCount = 0;
  let fetchedAt: number | undefined;
  /** Fetches begun so far, and the number of the last that succeeded: what it lacked, it lacked after every `kid` seen before it began. */
  let fetchesBegun = 0;
  let lastGoodFetch = 0;
  let lastAttemptAt: number | undefined;
  let lastUnknownFetchAt: number | undefined;
  let failure: AuthError | undefined;
  let inflight: Promise<void> | undefined;
  let started = false;
  let timer: NodeJS.Timeout | undefined;
  /** Unknown `kid` → the number of fetches begun when it was first seen. */
  const unknownSince = new Map<string, number>();

  async function load(rediscover: boolean, number: number): Promise<void> {
    try {
      if (options.jwksUrl === undefined && (rediscover || jwksUri === undefined)) jwksUri = await discoverJwksUri(issuer, { timeoutMs });
      const document = await fetchKeyDocument(jwksUri!, { issuer, what: 'key set', timeoutMs });
      const usable = usableKeys(document, options.algorithms);
      if (typeof usable === 'string') throw new IssuerMisconfigured(`issuer ${issuer}'s key set at ${where(jwksUri!)} ${usable}`, { issuer });
      local = createLocalJWKSet({ keys: usable.map((key) => ({ ...key })) });
      keyCount = usable.length;
      fetchedAt = now();
      lastGoodFetch = number;
      failure = undefined;
    } catch (error) {
      const previous = failure?.message;
      failure = error instanceof AuthError ? error : new KeysUnavailable(`issuer ${issuer}'s keys could not be fetched`, { issuer, cause: error });
      if (failure.message !== previous) options.onFailure?.(status());
      throw failure;
    }
  }

  /** One fetch at a time; callers that come while one is under way share it. */
  function refresh(rediscover: boolean): Promise<void> {
    if (inflight) return inflight;
    lastAttemptAt = now();
    fetchesBegun += 1;
    const running = load(rediscover, fetchesBegun);
    inflight = running.finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  function schedule(): void {
    if (!started) return;
    const wait = failure ? Math.min(refreshMs, FAILED_REFRESH_RETRY_MS) : refreshMs;
    timer = setTimeout(() => {
      refresh(true).catch(() => {}).finally(schedule);
    }, wait);
    timer.unref();
  }

  const remaining = (since: number | undefined): number => (since === undefined ? 0 : Math.max(0, since + cooldownMs - now()));
  const retryAfter = (ms: number): number => Math.max(1, Math.ceil(ms / 1_000));

  async function ensureKeys(): Promise<ReturnType<typeof createLocalJWKSet>> {
    if (local === undefined) {
      if (inflight) await inflight;
      else if (lastAttemptAt === undefined || remaining(lastAttemptAt) === 0) await refresh(false);
      else throw again(failure, remaining(lastAttemptAt));
      return local!;
    }
    if (now() - fetchedAt! >= refreshMs && inflight === undefined) {
      // Stale: refreshed beside the request once started, else before it; either way a failure keeps the keys in hand.
      const refreshing = refresh(true).catch(() => {});
      if (!started) await refreshing;
    }
    return local;
  }

  const getKey: JWTVerifyGetKey = async (header, token) => {
    const found = await lookup(await ensureKeys(), header, token);
    if (found !== undefined) return found;
    const kid = typeof header.kid === 'string' ? header.kid : '';
    // Remembered by a bounded prefix: a made-up kid may be as long as the token.
    const seen = kid.slice(0, MAX_KID_REMEMBERED);
    if (!unknownSince.has(seen)) {
      while (unknownSince.size >= MAX_UNKNOWN_KIDS) unknownSince.delete(unknownSince.keys().next().value!);
      unknownSince.set(seen, fetchesBegun);
    }
    if (inflight !== undefined) {
      await inflight.catch(() => {});
      const fetched = await lookup(local!, header, token);
      if (fetched !== undefined) return fetched;
    }
    if (remaining(lastUnknownFetchAt) === 0) {
      lastUnknownFetchAt = now();
      await refresh(false);
      // Fetched after the kid was first seen: what the issuer publishes now is the answer (found, or not its key).
      return local!(header, token);
    }
    if (lastGoodFetch > (unknownSince.get(seen) ?? Infinity) && failure === undefined) throw new errors.JWKSNoMatchingKey();
    const wait = remaining(lastUnknownFetchAt);
    if (failure !== undefined) throw again(failure, wait);
    const named = kid === '' ? 'no kid' : `kid ${quote(kid)}`;
    throw new KeyNotYetKnown(
      `the token's key (${named}) is not among issuer ${issuer}'s keys yet: a key the issuer has just rotated in is fetched within ${retryAfter(wait)} s; retry then`,
      { issuer, retryAfterSeconds: retryAfter(wait) },
    );
  };

  /** The key the header names, or undefined when the set has none for it. */
  async function lookup(keys: ReturnType<typeof createLocalJWKSet>, header: Parameters<JWTVerifyGetKey>[0], token: Parameters<JWTVerifyGetKey>[1]) {
    try {
      return await keys(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) return undefined;
      throw error;
    }
  }

  /** The last failure again, with when to retry. */
  function again(last: AuthError | undefined, wait: number): AuthError {
    if (last instanceof IssuerMisconfigured) return new IssuerMisconfigured(last.message, { issuer, cause: last });
    return new KeysUnavailable(last?.message ?? `issuer ${issuer}'s keys are not fetched yet`, { issuer, cause: last, retryAfterSeconds: retryAfter(wait) });
  }

  return {
    getKey,
    where: () => (jwksUri ? where(jwksUri) : where(discoveryUrl(issuer))),
    start() {
      if (started) return;
      started = true;
      refresh(true).catch(() => {}).finally(schedule);
    },
    close() {
      started = false;
      clearTimeout(timer);
    },
    status,
  };

  function status(): KeySetStatus {
    const state = local !== undefined ? 'ready' : failure instanceof IssuerMisconfigured ? 'misconfigured' : failure !== undefined ? 'unreachable' : 'loading';
    return {
      issuer,
      state,
      ...(failure !== undefined && { reason: failure.message }),
      ...(jwksUri !== undefined && { jwksUri: where(jwksUri) }),
      keys: keyCount,
      ...(fetchedAt !== undefined && { fetchedAt: new Date(fetchedAt).toISOString() }),
    };
  }
}

const KEY_TYPES: Readonly<Record<string, string>> = { RS: 'RSA', PS: 'RSA', ES: 'EC', Ed: 'OKP' };

/** The keys of a fetched set that can verify one of `algorithms`, or why there are none. */
function usableKeys(document: Readonly<Record<string, unknown>>, algorithms: readonly string[]): readonly JWK[] | string {
  const keys = (document as Partial<JSONWebKeySet>).keys;
  if (!Array.isArray(keys)) return 'is not a JWK set (no "keys" array)';
  const kinds = new Set(algorithms.map((algorithm) => KEY_TYPES[algorithm.slice(0, 2)]));
  const usable = keys.filter((key: unknown): key is JWK => {
    if (typeof key !== 'object' || key === null) return false;
    const jwk = key as JWK;
    return typeof jwk.kty === 'string' && kinds.has(jwk.kty) && (jwk.use === undefined || jwk.use === 'sig') && (jwk.alg === undefined || algorithms.includes(jwk.alg));
  });
  if (usable.length === 0) return `holds no signing key for ${algorithms.join(', ')}`;
  return usable;
}

import { createHash } from 'node:crypto';

/** Most verified tokens remembered at once; the least recently used go first. */
export const DEFAULT_TOKEN_CACHE_SIZE = 10_000;
/**
 * Longest a verified token is trusted without checking it again, even if it
 * expires later: a key the issuer removes from its JWKS stops working within
 * this bound (plus the key set's own cache age).
 */
export const DEFAULT_TOKEN_CACHE_TTL_MS = 60_000;

/** Options of {@link createTokenCache}. */
export interface TokenCacheOptions {
  /** Entries kept; `0` turns the cache off. Default {@link DEFAULT_TOKEN_CACHE_SIZE}. */
  readonly maxEntries?: number;
  /** Upper bound on an entry's life. Default {@link DEFAULT_TOKEN_CACHE_TTL_MS}. */
  readonly ttlMs?: number;
}

/**
 * Verified results by token. Keys are SHA-256 digests, so the cache never
 * holds a usable token (a heap dump shows hashes, not credentials).
 */
export interface TokenCache<T> {
  /** The value stored for `token`, if it has not expired at `nowMs`. */
  get(token: string, nowMs: number): T | undefined;
  /** Remembers `value` until `expiresAtMs` or `nowMs + ttlMs`, whichever is sooner. */
  set(token: string, value: T, expiresAtMs: number, nowMs: number): void;
  readonly size: number;
  clear(): void;
}

/**
 * A bounded LRU of verified tokens: jose's `jwtVerify` costs 33–70 µs a
 * call, and a client sends the same token with every request.
 *
 * @example
 * const cache = createTokenCache<Principal>({ maxEntries: 10_000 });
 */
export function createTokenCache<T>(options: TokenCacheOptions = {}): TokenCache<T> {
  const maxEntries = options.maxEntries ?? DEFAULT_TOKEN_CACHE_SIZE;
  const ttlMs = options.ttlMs ?? DEFAULT_TOKEN_CACHE_TTL_MS;
  if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new TypeError('maxEntries must be a whole number ≥ 0');
  if (!Number.isInteger(ttlMs) || ttlMs < 0) throw new TypeError('ttlMs must be a whole number of milliseconds ≥ 0');

  // A Map iterates in insertion order: re-inserting on a hit makes the first key the least recently used.
  const entries = new Map<string, { readonly value: T; readonly expiresAtMs: number }>();
  return {
    get(token, nowMs) {
      if (maxEntries === 0) return undefined;
      const key = digest(token);
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      entries.delete(key);
      if (entry.expiresAtMs <= nowMs) return undefined;
      entries.set(key, entry);
      return entry.value;
    },
    set(token, value, expiresAtMs, nowMs) {
      const until = Math.min(expiresAtMs, nowMs + ttlMs);
      if (maxEntries === 0 || until <= nowMs) return;
      const key = digest(token);
      entries.delete(key);
      entries.set(key, { value, expiresAtMs: until });
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
    get size() {
      return entries.size;
    },
    clear() {
      entries.clear();
    },
  };
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

import { join } from 'node:path';
import type { JWK } from 'jose';
import { openSigningKey, readSigningKeyFile, type SigningKey, type SigningKeyOptions } from './signing-key.ts';
import { listRotatedKeyFiles } from './rotated-key-files.ts';

/** Options of {@link openRotatingSigningKey}. */
export interface RotatingSigningKeyOptions extends SigningKeyOptions {
  /**
   * How long a key stays published after this process stopped signing with
   * it (or, for a key already replaced when it started, after its start):
   * the longest anything it signed can still be accepted.
   */
  readonly retiredPublishedMs: number;
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/** Outcome of {@link RotatingSigningKey.reload}. */
export interface SigningKeyReload {
  /** The key signing from now on. */
  readonly kid: string;
  /** Whether it is another key than before. */
  readonly changed: boolean;
}

/** A signing key that an operator rotates by adding a numbered file to the keys folder (see `rotated-key-files.ts`). */
export interface RotatingSigningKey {
  /** The key to sign with now: the highest-numbered file's. */
  current(): SigningKey;
  /** What to publish: the current key first, then replaced keys still inside their window, newest first. */
  publicKeys(): readonly JWK[];
  /** Reads the folder again; a new highest-numbered file becomes the current key, and the one it replaces is retired now. */
  reload(signal?: AbortSignal): Promise<SigningKeyReload>;
}

/**
 * Opens the key of `fileName`'s rotation in `dir` (creating the first file
 * on first use, as {@link openSigningKey} does), for short-lived signatures
 * such as consumer assertions: a replaced key is published for
 * `retiredPublishedMs` more, long enough for whatever it signed to expire,
 * whether or not its file is still there, and then no longer.
 *
 * Replicas sharing the folder sign with the same key once each has reloaded
 * (SIGHUP); a replica that started after the rotation still publishes the
 * older keys present for the window from its start, so the replicas not yet
 * reloaded are covered.
 *
 * @example
 * const key = await openRotatingSigningKey({ dir: '.isthmus', fileName: 'gateway-signing.json', purpose, retiredPublishedMs: 360_000 });
 * await key.reload(); // after `gateway-signing.2.json` was added
 * @throws SigningKeyError naming the file that cannot be used.
 */
export async function openRotatingSigningKey(options: RotatingSigningKeyOptions): Promise<RotatingSigningKey> {
  const now = options.now ?? Date.now;
  if (!Number.isSafeInteger(options.retiredPublishedMs) || options.retiredPublishedMs < 0) throw new TypeError('retiredPublishedMs must be a whole number of milliseconds ≥ 0');
  /** Replaced keys by kid, each with the end of its window (never extended). */
  const retired = new Map<string, { readonly jwk: JWK; readonly untilMs: number }>();
  const retire = (key: SigningKey) => {
    if (!retired.has(key.kid)) retired.set(key.kid, { jwk: key.publicJwk, untilMs: now() + options.retiredPublishedMs });
  };
  const read = async (signal: AbortSignal | undefined): Promise<{ readonly current: SigningKey; readonly older: readonly SigningKey[] }> => {
    const files = options.dir === undefined ? [] : await listRotatedKeyFiles(options.dir, options.fileName);
    if (files.length === 0) return { current: await openSigningKey({ ...options, ...(signal && { signal }) }), older: [] };
    const keys: SigningKey[] = [];
    // A file removed between the listing and the read is skipped, never made again.
    for (const file of files) {
      const key = await readSigningKeyFile(join(options.dir!, file.fileName), signal);
      if (key) keys.push(key);
    }
    if (keys.length === 0) return read(signal);
    return { current: keys.at(-1)!, older: keys.slice(0, -1).reverse() };
  };

  const opened = await read(options.signal);
  let current = opened.current;
  for (const key of opened.older) if (key.kid !== current.kid) retire(key);
  return {
    current: () => current,
    publicKeys() {
      const at = now();
      const live = [...retired.entries()].filter(([kid, entry]) => kid !== current.kid && entry.untilMs > at).sort((a, b) => b[1].untilMs - a[1].untilMs);
      return [current.publicJwk, ...live.map(([, entry]) => entry.jwk)];
    },
    async reload(signal) {
      // Without a folder the key lives in memory: nothing to read again (a fresh key would be a rotation nobody asked for).
      if (options.dir === undefined) return { kid: current.kid, changed: false };
      const next = await read(signal);
      const changed = next.current.kid !== current.kid;
      if (changed) retire(current);
      for (const key of next.older) if (key.kid !== next.current.kid) retire(key);
      // A key brought back (an operator undoing a rotation) signs again: no longer retired.
      retired.delete(next.current.kid);
      current = next.current;
      return { kid: current.kid, changed };
    },
  };
}

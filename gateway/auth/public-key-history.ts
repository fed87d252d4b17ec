import { randomBytes } from 'node:crypto';
import { open, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JSONWebKeySet, JWK } from 'jose';
import { SIGNING_ALGORITHM, SigningKeyError, type SigningKey } from './signing-key.ts';

/** Options of {@link recordPublicKeyHistory}. */
export interface PublicKeyHistoryOptions {
  /** The keys folder; undefined (keys in memory) keeps no history: the set is the current key alone. */
  readonly dir: string | undefined;
  /** The history's file name in `dir`, e.g. `access-log-jwks.json`. */
  readonly fileName: string;
  /** The key in use now. */
  readonly current: SigningKey;
  readonly signal?: AbortSignal;
}

/**
 * The public keys a signing key file has held, current one first, as a
 * JWKS to publish. What a key signed (access log checkpoints) must stay
 * verifiable after the key is replaced, so every key is written to the
 * history file in the keys folder when it is first used, and never dropped.
 *
 * The history is kept with the keys, not in the database: a set that
 * whoever can edit the log could also extend would vouch for nothing. It
 * holds public members only (a private member in the file is not
 * published); a file others may write is refused, like a key file. A
 * read-only keys folder (a mounted secret) is fine: the current key is then
 * published without being written down, and the operator keeps the file.
 *
 * Replicas share the keys folder and so the current key: two writing at
 * once write the same set.
 *
 * @example
 * const jwks = await recordPublicKeyHistory({ dir: '.isthmus', fileName: 'access-log-jwks.json', current: key });
 * @throws SigningKeyError naming the file, when it is unsafe or not a JWKS of Isthmus keys.
 */
export async function recordPublicKeyHistory(options: PublicKeyHistoryOptions): Promise<JSONWebKeySet> {
  options.signal?.throwIfAborted();
  const current = publicMembers(options.current.publicJwk);
  if (options.dir === undefined) return { keys: [current] };
  const file = join(options.dir, options.fileName);
  const recorded = await readHistory(file, options.signal);
  const keys = [current, ...recorded.filter((key) => key.kid !== current.kid)];
  if (recorded.some((key) => key.kid === current.kid)) return { keys };

  const aside = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(aside, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o644, flag: 'wx', signal: options.signal });
    await rename(aside, file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A read-only keys folder: publish the set all the same.
    if (code !== 'EROFS' && code !== 'EACCES' && code !== 'EPERM') throw new SigningKeyError(`cannot write the key history ${file} (${code ?? 'failed'})`, file, { cause: error });
  } finally {
    await unlink(aside).catch(() => {});
  }
  return { keys };
}

async function readHistory(file: string, signal: AbortSignal | undefined): Promise<readonly JWK[]> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new SigningKeyError(`cannot read the key history ${file} (${(error as NodeJS.ErrnoException).code ?? 'failed'})`, file, { cause: error });
  }
  let text: string;
  try {
    const stat = await handle.stat();
    const uid = process.getuid?.();
    if (uid !== undefined && stat.uid !== uid && stat.uid !== 0) {
      throw new SigningKeyError(`the key history ${file} belongs to another user; whoever owns it decides which checkpoints verify`, file);
    }
    if ((stat.mode & 0o022) !== 0) {
      throw new SigningKeyError(`the key history ${file} is writable by other users (mode ${(stat.mode & 0o777).toString(8)}); run: chmod 644 ${file}`, file);
    }
    text = await handle.readFile({ encoding: 'utf8', signal });
  } finally {
    await handle.close();
  }
  const unusable = (why: string) => new SigningKeyError(`the key history ${file} is not a JWKS of Isthmus keys (${why}); restore it from a backup, or move it away to start a new history`, file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw unusable('not JSON');
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw unusable('no "keys" array');
  return keys.map((key: unknown, index) => {
    const jwk = key as JWK | null;
    if (typeof jwk !== 'object' || jwk === null || jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string' || typeof jwk.kid !== 'string') {
      throw unusable(`key ${index} is not a P-256 public key with a kid`);
    }
    return publicMembers(jwk);
  });
}

/** The members a JWKS publishes; anything else (a private `d`) stays out. */
function publicMembers(jwk: JWK): JWK {
  return Object.freeze({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid: jwk.kid, alg: jwk.alg ?? SIGNING_ALGORITHM, use: jwk.use ?? 'sig' });
}

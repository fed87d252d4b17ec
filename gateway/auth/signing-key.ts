import { randomBytes } from 'node:crypto';
import { link, mkdir, open, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';

/** The one algorithm of Isthmus's own keys: small signatures, and what most JWT libraries verify. */
export const SIGNING_ALGORITHM = 'ES256';
/** Layout of a key file; a newer layout is refused rather than misread. */
const KEY_FILE_VERSION = 1;

/** An ES256 key pair Isthmus signs with (the dev issuer, the gateway's consumer assertions). */
export interface SigningKey {
  /** The public key's RFC 7638 thumbprint: stable for the key, so tokens name it in `kid`. */
  readonly kid: string;
  readonly privateKey: CryptoKey;
  /** The public half, with `kid`, `alg` and `use`, as a JWKS publishes it. */
  readonly publicJwk: JWK;
  /** The file it is kept in; undefined when it lives in memory only. */
  readonly file: string | undefined;
}

/** A key file exists but cannot be used: wrong permissions, not ours, or not a key. */
export class SigningKeyError extends Error {
  readonly code = 'SIGNING_KEY_UNUSABLE';
  /** The offending file. */
  readonly file: string;
  constructor(message: string, file: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'SigningKeyError';
    this.file = file;
  }
}

/** Options of {@link openSigningKey}. */
export interface SigningKeyOptions {
  /** The folder of key files; undefined keeps a fresh key in memory (tests, `:memory:` runs). */
  readonly dir: string | undefined;
  /** The file's name inside `dir` (`dev-issuer.json`). */
  readonly fileName: string;
  /** What the key is for, written into a new file so a person reading it knows. */
  readonly purpose: string;
  readonly signal?: AbortSignal;
}

/**
 * Reads the key in `dir/fileName`, creating it (mode 0600, in a 0700
 * folder) on first use. Two processes starting at once end up with the same
 * key: the file is written aside and linked into place, and the loser of
 * that race reads the winner's file.
 *
 * A file that other users may read or write, or that belongs to another
 * user, is refused: whoever can write it can mint tokens the gateway trusts.
 *
 * @example
 * const key = await openSigningKey({ dir: '.isthmus', fileName: 'dev-issuer.json', purpose: 'Isthmus dev issuer' });
 * @throws SigningKeyError naming the file.
 */
export async function openSigningKey(options: SigningKeyOptions): Promise<SigningKey> {
  options.signal?.throwIfAborted();
  if (options.dir === undefined) {
    const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALGORITHM);
    return { ...(await describe(await exportJWK(publicKey))), privateKey, file: undefined };
  }
  const file = join(options.dir, options.fileName);
  const existing = await readKeyFile(file, options.signal);
  if (existing !== undefined) return existing;

  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  const { privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true });
  const privateJwk = await exportJWK(privateKey);
  const content = `${JSON.stringify({ version: KEY_FILE_VERSION, purpose: options.purpose, alg: SIGNING_ALGORITHM, createdAt: new Date().toISOString(), privateJwk }, null, 2)}\n`;
  const aside = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(aside, content, { mode: 0o600, flag: 'wx', signal: options.signal });
    await link(aside, file);
  } catch (error) {
    if (!(isErrno(error) && error.code === 'EEXIST')) throw new SigningKeyError(`cannot create the key file ${file} (${errnoOf(error)})`, file, { cause: error });
  } finally {
    await unlink(aside).catch(() => {});
  }
  const created = await readKeyFile(file, options.signal);
  if (created === undefined) throw new SigningKeyError(`the key file ${file} vanished while it was being created`, file);
  return created;
}

/**
 * Reads an existing key file, with the same checks as {@link openSigningKey};
 * undefined when there is no such file. Never creates one.
 *
 * @throws SigningKeyError naming the file.
 */
export function readSigningKeyFile(file: string, signal?: AbortSignal): Promise<SigningKey | undefined> {
  return readKeyFile(file, signal);
}

async function readKeyFile(file: string, signal: AbortSignal | undefined): Promise<SigningKey | undefined> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if (isErrno(error) && error.code === 'ENOENT') return undefined;
    throw new SigningKeyError(`cannot read the key file ${file} (${errnoOf(error)})`, file, { cause: error });
  }
  let text: string;
  try {
    const stat = await handle.stat();
    if (process.platform !== 'win32') {
      const uid = process.getuid?.();
      if (uid !== undefined && stat.uid !== uid && stat.uid !== 0) {
        throw new SigningKeyError(`the key file ${file} belongs to another user; whoever owns it can sign tokens Isthmus trusts`, file);
      }
      // Group read is tolerated (Kubernetes mounts secrets group-readable with fsGroup); write access or world access is not.
      if ((stat.mode & 0o027) !== 0) {
        throw new SigningKeyError(`the key file ${file} is open to other users (mode ${(stat.mode & 0o777).toString(8)}); run: chmod 600 ${file}`, file);
      }
    }
    text = await handle.readFile({ encoding: 'utf8', signal });
  } finally {
    await handle.close();
  }
  const unusable = (why: string, cause?: unknown): SigningKeyError =>
    new SigningKeyError(`the key file ${file} is not a usable Isthmus key (${why}); move it away to have a new key made`, file, { cause });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not kept as cause: JSON.parse quotes the text, and the text is a private key.
    throw unusable('not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw unusable('not a JSON object');
  const { version, alg, privateJwk } = parsed as { version?: unknown; alg?: unknown; privateJwk?: unknown };
  if (version !== KEY_FILE_VERSION) throw unusable(`version ${String(version)}, expected ${KEY_FILE_VERSION}`);
  if (alg !== SIGNING_ALGORITHM) throw unusable(`alg must be ${SIGNING_ALGORITHM}`);
  const jwk = privateJwk as JWK | undefined;
  if (typeof jwk !== 'object' || jwk === null || jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.d !== 'string' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') {
    throw unusable('privateJwk must be a P-256 private JWK');
  }
  let privateKey: CryptoKey;
  try {
    privateKey = (await importJWK({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, d: jwk.d }, SIGNING_ALGORITHM, { extractable: false })) as CryptoKey;
  } catch {
    throw unusable('the key does not import');
  }
  return { ...(await describe({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y })), privateKey, file };
}

async function describe(publicJwk: JWK): Promise<{ readonly kid: string; readonly publicJwk: JWK }> {
  const bare: JWK = { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y };
  const kid = await calculateJwkThumbprint(bare);
  return { kid, publicJwk: Object.freeze({ ...bare, kid, alg: SIGNING_ALGORITHM, use: 'sig' }) };
}

function isErrno(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}

function errnoOf(error: unknown): string {
  return isErrno(error) && typeof error.code === 'string' ? error.code : 'failed';
}

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { KeyMalformed } from './log-proof-error.ts';
import { decodeBase64, encodeBase64 } from './base64.ts';

/** The signed-note algorithm byte for Ed25519 (C2SP signed-note). */
export const ED25519_ALGORITHM = 0x01;

/** A key that checks a note's signatures: the parsed form of `<name>+<hex id>+<base64(0x01 || public key)>`. */
export interface NoteVerifier {
  readonly name: string;
  /** The first four bytes of SHA-256(name || 0x0A || 0x01 || public key), big-endian. */
  readonly keyId: number;
  readonly publicKey: KeyObject;
  /** The verifier key string, as published. */
  readonly verifierKey: string;
}

/** A key that signs notes: the parsed form of `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  readonly privateKey: KeyObject;
  /** The verifier key string that checks this signer's signatures (safe to publish). */
  readonly verifierKey: string;
}

// The fixed DER around a raw Ed25519 key (RFC 8410), so node:crypto can import the 32 bytes the note format carries.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_KEY_SIZE = 32;

/**
 * The key id of the signed-note format: the first four bytes, big-endian, of
 * SHA-256(name || "\n" || algorithm byte || public key). It tells a verifier
 * which of its keys a signature line claims, without trying them all.
 */
export function noteKeyId(name: string, publicKey: Uint8Array): number {
  const digest = createHash('sha256').update(name).update('\n').update(Uint8Array.of(ED25519_ALGORITHM)).update(publicKey).digest();
  return digest.readUInt32BE(0);
}

/** Throws `KeyMalformed` unless `name` can name a note key: non-empty, no white space, no `+`. */
export function checkKeyName(name: string): void {
  if (name.length === 0 || /[\s+]/u.test(name) || name.length > 256) {
    throw new KeyMalformed('a key name is non-empty, at most 256 characters, without white space or "+"');
  }
}

function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

function verifierKeyString(name: string, publicKey: Uint8Array): string {
  const id = noteKeyId(name, publicKey).toString(16).padStart(8, '0');
  return `${name}+${id}+${encodeBase64(Buffer.concat([Uint8Array.of(ED25519_ALGORITHM), publicKey]))}`;
}

/** Splits `<name>+<hex id>+<base64(0x01 || key)>` and checks the id against the name and key. */
function parseKeyParts(text: string, what: string): { name: string; keyId: number; key: Buffer } {
  // Only the first two "+" separate: the base64 key may hold "+" of its own.
  const first = text.indexOf('+');
  const second = text.indexOf('+', first + 1);
  if (first < 0 || second < 0) throw new KeyMalformed(`${what} is <name>+<hex id>+<base64 key>`);
  const [name, hexId, encoded] = [text.slice(0, first), text.slice(first + 1, second), text.slice(second + 1)];
  checkKeyName(name);
  if (!/^[0-9a-f]{8}$/.test(hexId)) throw new KeyMalformed(`${what}'s id is eight lower-case hex digits`);
  const bytes = decodeBase64(encoded);
  if (bytes === undefined || bytes.length !== 1 + ED25519_KEY_SIZE || bytes[0] !== ED25519_ALGORITHM) {
    throw new KeyMalformed(`${what} is not an Ed25519 key (algorithm 0x01 and 32 bytes)`);
  }
  return { name, keyId: Number.parseInt(hexId, 16), key: bytes.subarray(1) };
}

/**
 * Parses a verifier key string; throws `KeyMalformed` when it is not one, or
 * when its id does not belong to its name and key.
 *
 * @example
 * const witness = parseVerifierKey('audit-office+8f2b6c1d+AR3…');
 */
export function parseVerifierKey(text: string): NoteVerifier {
  const { name, keyId, key } = parseKeyParts(text, 'a verifier key');
  if (noteKeyId(name, key) !== keyId) throw new KeyMalformed(`the verifier key "${name}" has an id that is not its own`);
  const publicKey = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, key]), format: 'der', type: 'spki' });
  return { name, keyId, publicKey, verifierKey: text };
}

/** Parses a signer key string (`PRIVATE+KEY+…`); throws `KeyMalformed` when it is not one. The message never quotes it. */
export function parseSignerKey(text: string): NoteSigner {
  if (!text.startsWith('PRIVATE+KEY+')) throw new KeyMalformed('a signer key starts with PRIVATE+KEY+');
  const { name, keyId, key } = parseKeyParts(text.slice('PRIVATE+KEY+'.length), 'a signer key');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, key]), format: 'der', type: 'pkcs8' });
  const publicKey = rawPublicKey(createPublicKey(privateKey));
  if (noteKeyId(name, publicKey) !== keyId) throw new KeyMalformed(`the signer key "${name}" has an id that is not its own`);
  return { name, keyId, privateKey, verifierKey: verifierKeyString(name, publicKey) };
}

/** A new Ed25519 note key: the signer key string (secret) and the verifier key string (to publish). */
export interface GeneratedNoteKey {
  readonly signerKey: string;
  readonly verifierKey: string;
}

/**
 * Generates an Ed25519 key for signing notes under `name` (a log's origin, a
 * witness's name).
 *
 * @example
 * const { signerKey, verifierKey } = generateNoteKey('isthmus.city.example/log');
 */
export function generateNoteKey(name: string): GeneratedNoteKey {
  checkKeyName(name);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
  const raw = rawPublicKey(publicKey);
  const id = noteKeyId(name, raw).toString(16).padStart(8, '0');
  return {
    signerKey: `PRIVATE+KEY+${name}+${id}+${encodeBase64(Buffer.concat([Uint8Array.of(ED25519_ALGORITHM), seed]))}`,
    verifierKey: verifierKeyString(name, raw),
  };
}

import { sign, verify } from 'node:crypto';
import { decodeBase64, encodeBase64 } from './base64.ts';
import { KeyUnknown, NoteMalformed, SignatureInvalid } from './log-proof-error.ts';
import { checkKeyName, type NoteSigner, type NoteVerifier } from './note-key.ts';

/** The largest note accepted (the C2SP signed-note limit is a matter of policy; this follows Go's note package). */
export const MAX_NOTE_SIZE = 1_000_000;
/** The most signature lines one note may carry. */
export const MAX_NOTE_SIGNATURES = 100;

// "— " is U+2014 EM DASH and a space: the C2SP signed-note signature line prefix.
const SIGNATURE_PREFIX = '\u2014 ';
const ED25519_SIGNATURE_SIZE = 64;

/** One signature line: the key's name and id, and the signature bytes (for Ed25519, 64). */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  readonly signature: Uint8Array;
}

/** A signed note, parsed: the signed text (ending in a newline) and its signature lines, in order. */
export interface Note {
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** A note some of whose signatures verified: `verifiedBy` names the keys, in signature order, each once. */
export interface VerifiedNote extends Note {
  readonly verifiedBy: readonly NoteVerifier[];
}

function checkText(text: string): void {
  if (!text.endsWith('\n')) throw new NoteMalformed('a note\'s text ends with a newline');
  // Control characters could make two readers see different texts in the same bytes.
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/u.test(text)) throw new NoteMalformed('a note\'s text has no control characters but newlines');
  // A lone surrogate has no UTF-8 form (String.prototype.isWellFormed is not in the build's ES2022 lib).
  if (/\p{Cs}/u.test(text)) throw new NoteMalformed('a note\'s text is valid Unicode');
}

/**
 * Parses a signed note: the text up to the last blank line, then one
 * signature line `— <name> <base64(key id || signature)>` a line. Throws
 * `NoteMalformed`; checks no signature (that is `verifyNote`).
 */
export function parseNote(message: string): Note {
  if (message.length > MAX_NOTE_SIZE) throw new NoteMalformed(`a note is at most ${MAX_NOTE_SIZE} characters`);
  const split = message.lastIndexOf('\n\n');
  if (split < 0) throw new NoteMalformed('a note has a blank line between its text and its signatures');
  const text = message.slice(0, split + 1);
  checkText(text);
  const block = message.slice(split + 2);
  if (!block.endsWith('\n')) throw new NoteMalformed('a note ends with a newline after its last signature');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) throw new NoteMalformed(`a note carries at most ${MAX_NOTE_SIGNATURES} signatures`);
  const signatures = lines.map((line): NoteSignature => {
    if (!line.startsWith(SIGNATURE_PREFIX)) throw new NoteMalformed('a signature line starts with "— "');
    const rest = line.slice(SIGNATURE_PREFIX.length);
    const space = rest.indexOf(' ');
    const name = rest.slice(0, space);
    const bytes = space < 0 ? undefined : decodeBase64(rest.slice(space + 1));
    if (bytes === undefined || bytes.length < 5) throw new NoteMalformed('a signature line is "— <name> <base64(key id || signature)>"');
    try {
      checkKeyName(name);
    } catch (error) {
      throw new NoteMalformed('a signature line names its key by a valid key name', { cause: error });
    }
    return { name, keyId: bytes.readUInt32BE(0), signature: new Uint8Array(bytes.subarray(4)) };
  });
  return { text, signatures };
}

/** Writes a note back out: its text, a blank line, its signature lines. */
export function formatNote(note: Note): string {
  const lines = note.signatures.map((s) => {
    const bytes = Buffer.alloc(4 + s.signature.length);
    bytes.writeUInt32BE(s.keyId, 0);
    bytes.set(s.signature, 4);
    return `${SIGNATURE_PREFIX}${s.name} ${encodeBase64(bytes)}\n`;
  });
  return `${note.text}\n${lines.join('')}`;
}

function signatureBy(signer: NoteSigner, text: string): NoteSignature {
  return { name: signer.name, keyId: signer.keyId, signature: new Uint8Array(sign(null, Buffer.from(text), signer.privateKey)) };
}

/**
 * Signs `text` (which must end with a newline) with each signer, and returns the note.
 *
 * @example
 * const note = signNote('isthmus.city.example/log/a1\n12\n…\n', [logSigner]);
 */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  checkText(text);
  return formatNote({ text, signatures: signers.map((signer) => signatureBy(signer, text)) });
}

/**
 * Adds each signer's signature to an existing note (a witness cosigning a
 * checkpoint), keeping the others; a signature already there by the same key
 * is replaced. It does not check the others: verify first.
 */
export function cosignNote(message: string, signers: readonly NoteSigner[]): string {
  const note = parseNote(message);
  const ours = (s: NoteSignature) => signers.some((signer) => signer.name === s.name && signer.keyId === s.keyId);
  const signatures = [...note.signatures.filter((s) => !ours(s)), ...signers.map((signer) => signatureBy(signer, note.text))];
  if (signatures.length > MAX_NOTE_SIGNATURES) throw new NoteMalformed(`a note carries at most ${MAX_NOTE_SIGNATURES} signatures`);
  return formatNote({ text: note.text, signatures });
}

/**
 * Parses a note and checks the signatures of the keys it is given. A
 * signature by a key it does not know is passed over (others may know it); a
 * signature that claims a known key (name and id) and does not verify throws
 * `SignatureInvalid`; a note none of whose signatures is by a known key throws
 * `KeyUnknown`.
 */
export function verifyNote(message: string, verifiers: readonly NoteVerifier[]): VerifiedNote {
  const note = parseNote(message);
  const data = Buffer.from(note.text);
  const verifiedBy: NoteVerifier[] = [];
  for (const s of note.signatures) {
    const key = verifiers.find((v) => v.name === s.name && v.keyId === s.keyId);
    if (key === undefined || verifiedBy.includes(key)) continue;
    if (s.signature.length !== ED25519_SIGNATURE_SIZE || !verify(null, data, key.publicKey, s.signature)) {
      throw new SignatureInvalid(`the signature by "${s.name}" does not verify`, s.name);
    }
    verifiedBy.push(key);
  }
  if (verifiedBy.length === 0) throw new KeyUnknown('the note carries no signature by a key given to verify it');
  return { ...note, verifiedBy };
}

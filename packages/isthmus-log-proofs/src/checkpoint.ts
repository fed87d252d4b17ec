import { createHash } from 'node:crypto';
import { decodeBase64, encodeBase64 } from './base64.ts';
import {
  CheckpointMalformed,
  CosignaturesInsufficient,
  KeyUnknown,
  OptionsInvalid,
  OriginMismatch,
  PreviousMismatch,
  SizeWentBackwards,
} from './log-proof-error.ts';
import { HASH_SIZE } from './merkle-hash.ts';
import type { NoteSigner, NoteVerifier } from './note-key.ts';
import { parseNote, signNote, verifyNote } from './signed-note.ts';
import { verifyConsistency } from './verify-consistency.ts';

/** The extension line that names the checkpoint before this one: `previous <size> <base64 SHA-256 of its text>`. */
export const PREVIOUS_EXTENSION = 'previous';

/** What a checkpoint names as its predecessor: that checkpoint's size and the SHA-256 of its signed text. */
export interface PreviousCheckpoint {
  readonly size: number;
  readonly hash: Uint8Array;
}

/** The body of a checkpoint, before it is written out and signed. */
export interface CheckpointBody {
  /** Which log: for Isthmus, the gateway's origin and the chain, e.g. `isthmus.city.example/log/<chain id>`. */
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
  /** The checkpoint before this one; absent only on a chain's first. */
  readonly previous?: PreviousCheckpoint;
  /** Further extension lines, in order (each non-empty, none starting with `previous `). */
  readonly extensions?: readonly string[];
}

/** A parsed checkpoint: its body and the exact text that was signed. */
export interface Checkpoint extends CheckpointBody {
  readonly text: string;
  readonly extensions: readonly string[];
}

/** A checkpoint whose log signature verified and whose witnesses' cosignatures were counted. */
export interface VerifiedCheckpoint extends Checkpoint {
  /** The witnesses (by name, each once) whose cosignatures verified. */
  readonly cosignedBy: readonly string[];
}

const SIZE_PATTERN = /^(0|[1-9][0-9]*)$/;

function checkBody(body: CheckpointBody): void {
  if (body.origin.length === 0 || /[\u0000-\u001f]/u.test(body.origin)) throw new CheckpointMalformed('a checkpoint\'s origin is a non-empty line');
  if (!Number.isSafeInteger(body.size) || body.size < 0) throw new CheckpointMalformed('a checkpoint\'s size is a whole number ≥ 0');
  if (body.rootHash.length !== HASH_SIZE) throw new CheckpointMalformed(`a checkpoint's root is a ${HASH_SIZE}-byte hash`);
  const previous = body.previous;
  if (previous !== undefined && (!Number.isSafeInteger(previous.size) || previous.size < 0 || previous.hash.length !== HASH_SIZE)) {
    throw new CheckpointMalformed('a checkpoint names its previous one by a size and a SHA-256 hash');
  }
  for (const line of body.extensions ?? []) {
    if (line.length === 0 || /[\u0000-\u001f]/u.test(line) || line.startsWith(`${PREVIOUS_EXTENSION} `)) {
      throw new CheckpointMalformed('an extension line is one non-empty line, and only one names the previous checkpoint');
    }
  }
}

/**
 * Writes a checkpoint's text, the C2SP tlog-checkpoint body:
 * `<origin>\n<size>\n<base64 root>\n`, then `previous <size> <base64 hash>\n`
 * when there is one, then the other extension lines.
 */
export function formatCheckpoint(body: CheckpointBody): string {
  checkBody(body);
  const previous = body.previous === undefined ? [] : [`${PREVIOUS_EXTENSION} ${body.previous.size} ${encodeBase64(body.previous.hash)}`];
  return [body.origin, String(body.size), encodeBase64(body.rootHash), ...previous, ...(body.extensions ?? [])].map((line) => `${line}\n`).join('');
}

/** Parses a checkpoint's text (not the note around it); throws `CheckpointMalformed`. */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new CheckpointMalformed('a checkpoint\'s text ends with a newline');
  const [origin = '', sizeLine = '', rootLine = '', ...rest] = text.slice(0, -1).split('\n');
  if (!SIZE_PATTERN.test(sizeLine) || !Number.isSafeInteger(Number(sizeLine))) throw new CheckpointMalformed('a checkpoint\'s second line is its size in decimal');
  const rootHash = decodeBase64(rootLine);
  if (rootHash === undefined || rootHash.length !== HASH_SIZE) throw new CheckpointMalformed('a checkpoint\'s third line is its root hash in base64');
  const previousLines = rest.filter((line) => line.startsWith(`${PREVIOUS_EXTENSION} `));
  if (previousLines.length > 1) throw new CheckpointMalformed('a checkpoint names one previous checkpoint at most');
  let previous: PreviousCheckpoint | undefined;
  if (previousLines[0] !== undefined) {
    const [, size = '', hash = '', ...more] = previousLines[0].split(' ');
    const hashBytes = decodeBase64(hash);
    if (more.length > 0 || !SIZE_PATTERN.test(size) || hashBytes === undefined || hashBytes.length !== HASH_SIZE) {
      throw new CheckpointMalformed('a checkpoint\'s previous line is "previous <size> <base64 SHA-256>"');
    }
    previous = { size: Number(size), hash: new Uint8Array(hashBytes) };
  }
  const body = { origin, size: Number(sizeLine), rootHash: new Uint8Array(rootHash), extensions: rest.filter((line) => !previousLines.includes(line)) };
  checkBody(body);
  return { ...body, ...(previous === undefined ? {} : { previous }), text };
}

/** How a checkpoint is named by the one after it: its size and the SHA-256 of its signed text (cosignatures added later do not change it). */
export function previousCheckpointOf(checkpoint: Pick<Checkpoint, 'size' | 'text'>): PreviousCheckpoint {
  return { size: checkpoint.size, hash: new Uint8Array(createHash('sha256').update(checkpoint.text).digest()) };
}

/** Writes and signs a checkpoint with the log's key; witnesses add theirs with `cosignNote`. */
export function signCheckpoint(body: CheckpointBody, logSigner: NoteSigner): string {
  return signNote(formatCheckpoint(body), [logSigner]);
}

/** What a checkpoint must be to count. */
export interface CheckpointPolicy {
  /** The log it must be for (its first line). */
  readonly origin: string;
  /** The log's keys, current and past: one of them must have signed. */
  readonly logKeys: readonly NoteVerifier[];
  /** The witnesses whose cosignatures count. */
  readonly witnesses?: readonly NoteVerifier[];
  /** How many distinct witnesses must have cosigned; by default all the named witnesses. */
  readonly quorum?: number;
}

/**
 * Verifies a signed checkpoint against a policy: the note's format, the
 * checkpoint's, the origin (`ORIGIN_MISMATCH`), the log's signature
 * (`KEY_UNKNOWN` when none of the log's keys signed, `SIGNATURE_INVALID`),
 * and the witnesses' cosignatures (`SIGNATURE_INVALID` for a forged one,
 * `COSIGNATURES_INSUFFICIENT` below the quorum).
 *
 * @example
 * const checkpoint = verifyCheckpoint(note, { origin, logKeys: [parseVerifierKey(logKey)], witnesses: [parseVerifierKey(auditOffice)], quorum: 1 });
 */
export function verifyCheckpoint(message: string, policy: CheckpointPolicy): VerifiedCheckpoint {
  const witnesses = policy.witnesses ?? [];
  const quorum = policy.quorum ?? new Set(witnesses.map((w) => w.name)).size;
  if (!Number.isSafeInteger(quorum) || quorum < 0 || quorum > new Set(witnesses.map((w) => w.name)).size) {
    throw new OptionsInvalid('the quorum is a whole number from 0 to the number of named witnesses');
  }
  if (policy.logKeys.length === 0) throw new OptionsInvalid('a checkpoint is verified against at least one log key');
  const checkpoint = parseCheckpoint(parseNote(message).text);
  if (checkpoint.origin !== policy.origin) throw new OriginMismatch(`the checkpoint is for another log than "${policy.origin}"`);
  try {
    verifyNote(message, policy.logKeys);
  } catch (error) {
    if (error instanceof KeyUnknown) throw new KeyUnknown('the checkpoint is not signed by any of the log\'s keys', { cause: error });
    throw error;
  }
  // A log key listed among the witnesses would let the log cosign itself.
  const independent = witnesses.filter((w) => !policy.logKeys.some((k) => k.name === w.name));
  let cosignedBy: string[] = [];
  try {
    cosignedBy = [...new Set(verifyNote(message, independent).verifiedBy.map((w) => w.name))];
  } catch (error) {
    if (!(error instanceof KeyUnknown)) throw error;
  }
  if (cosignedBy.length < quorum) {
    throw new CosignaturesInsufficient(`${cosignedBy.length} of the ${quorum} witnesses required cosigned the checkpoint`, quorum, cosignedBy);
  }
  return { ...checkpoint, cosignedBy };
}

/**
 * Checks that `later` follows `earlier` on one log: same origin
 * (`ORIGIN_MISMATCH`), a size that did not go down (`SIZE_WENT_BACKWARDS`), a
 * `previous` line naming exactly `earlier` (`PREVIOUS_MISMATCH`: a checkpoint
 * between them was deleted, or one was replaced), and a consistency proof
 * from `earlier`'s tree to `later`'s (`INCONSISTENT`: history was rewritten).
 * With no `earlier`, `later` must be a chain's first and name no previous.
 */
export function verifySuccession(earlier: Checkpoint | undefined, later: Checkpoint, consistencyProof: readonly Uint8Array[]): void {
  if (earlier === undefined) {
    if (later.previous !== undefined) throw new PreviousMismatch(`the checkpoint at ${later.size} names a previous checkpoint (at ${later.previous.size}) that is missing`);
    return;
  }
  if (later.origin !== earlier.origin) throw new OriginMismatch('the two checkpoints are for different logs');
  if (later.size < earlier.size) throw new SizeWentBackwards(`the log went back from ${earlier.size} to ${later.size} entries`);
  const expected = previousCheckpointOf(earlier);
  const named = later.previous;
  if (named === undefined || named.size !== expected.size || !Buffer.from(named.hash).equals(Buffer.from(expected.hash))) {
    throw new PreviousMismatch(
      named === undefined
        ? `the checkpoint at ${later.size} names no previous checkpoint, though one at ${earlier.size} came before it`
        : `the checkpoint at ${later.size} names another previous checkpoint (at ${named.size}) than the one at ${earlier.size}`,
    );
  }
  verifyConsistency({ firstSize: earlier.size, firstRoot: earlier.rootHash, secondSize: later.size, secondRoot: later.rootHash, proof: consistencyProof });
}


import {
  emptyRootHash,
  equalHashes,
  formatNote,
  isLogProofError,
  parseCheckpoint,
  parseNote,
  signNote,
  verifyNote,
  verifySuccession,
  type Checkpoint,
  type NoteVerifier,
} from '../../isthmus-log-proofs/src/index.ts';
import { parseAddCheckpointRequest } from './add-checkpoint-request.ts';
import { isFinalCheckpoint, type JournalRecord } from './journal-record.ts';
import { isUnderPrefix } from './origin-prefix.ts';
import {
  AlreadyFinal,
  LogKeyUnknown,
  OldSizeMismatch,
  OriginNotAccepted,
  OriginUnknown,
  PreviousMismatch,
  ProofInconsistent,
  RequestMalformed,
  RootConflict,
  SignatureInvalid,
  SizeWentBackwards,
} from './witness-error.ts';
import type { WitnessJournal } from './witness-journal.ts';
import type { WitnessKeys } from './witness-key-store.ts';

/** What a witness is made of: its keys, whom it trusts, what it accepts, where it remembers. */
export interface WitnessDeps {
  readonly keys: WitnessKeys;
  /** The log keys (current and past) whose checkpoints it accepts. */
  readonly logKeys: readonly NoteVerifier[];
  /** The origins it accepts: each prefix itself and what lies below it at a `/`. */
  readonly originPrefixes: readonly string[];
  readonly journal: WitnessJournal;
  readonly now: () => Date;
}

/** `GET /.well-known/isthmus-witness-keys`: the witness's keys, current and past. */
export interface WitnessKeyList {
  readonly name: string;
  readonly keys: readonly { readonly vkey: string; readonly current: boolean; readonly firstUsedAt: string }[];
}

/** A witness without its HTTP: the checks, the cosignature, the journal. */
export interface Witness {
  readonly name: string;
  readonly verifierKey: string;
  /**
   * Checks a `POST /add-checkpoint` body and, when the checkpoint extends the
   * latest one this witness cosigned for its origin, cosigns it, journals it
   * durably and returns the signature line(s). Throws a `WitnessError`.
   */
  addCheckpoint(body: string): Promise<string>;
  /** The latest cosigned checkpoint of every origin starting with `prefix` (all when absent). */
  latest(prefix?: string): readonly JournalRecord[];
  /** Every checkpoint cosigned for `origin`, oldest first; throws `OriginUnknown`. */
  history(origin: string): Promise<readonly JournalRecord[]>;
  keyList(): WitnessKeyList;
}

/** An origin as a message names it: clipped, since a refused request's origin can be as long as the body. */
function shown(origin: string): string {
  return origin.length > 200 ? `${origin.slice(0, 200)}…` : origin;
}

function parseLogNote(note: string): Checkpoint {
  try {
    return parseCheckpoint(parseNote(note).text);
  } catch (error) {
    if (isLogProofError(error)) throw new RequestMalformed(`the checkpoint note does not parse: ${error.message}`);
    throw error;
  }
}

/** Checks the log's signature; returns the note with only the trusted log signatures kept. */
function verifyLogSignature(note: string, logKeys: readonly NoteVerifier[]): ReturnType<typeof parseNote> {
  try {
    const verified = verifyNote(note, logKeys);
    const trusted = verified.signatures.filter((s) => verified.verifiedBy.some((key) => key.name === s.name && key.keyId === s.keyId));
    return { text: verified.text, signatures: trusted };
  } catch (error) {
    if (!isLogProofError(error)) throw error;
    if (error.code === 'KEY_UNKNOWN') throw new LogKeyUnknown('the checkpoint is not signed by a log key this witness trusts');
    if (error.code === 'SIGNATURE_INVALID') throw new SignatureInvalid('a log signature on the checkpoint does not verify');
    throw new RequestMalformed(`the checkpoint note does not parse: ${error.message}`);
  }
}

function checkSuccession(latest: Checkpoint | undefined, checkpoint: Checkpoint, proof: readonly Uint8Array[]): void {
  try {
    verifySuccession(latest, checkpoint, proof);
  } catch (error) {
    if (!isLogProofError(error)) throw error;
    if (error.code === 'PREVIOUS_MISMATCH') throw new PreviousMismatch(error.message);
    if (error.code === 'SIZE_WENT_BACKWARDS') throw new SizeWentBackwards(error.message);
    throw new ProofInconsistent(error.message);
  }
}

/**
 * Makes a witness. Requests for one origin are taken one at a time (the
 * second waits for the first's journal write), so two successors of one
 * checkpoint can never both be cosigned.
 */
export function createWitness(deps: WitnessDeps): Witness {
  const { keys, logKeys, originPrefixes, journal, now } = deps;
  const signer = keys.signer;
  const queues = new Map<string, Promise<unknown>>();

  function serialized<T>(origin: string, task: () => Promise<T>): Promise<T> {
    const previous = queues.get(origin) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.catch(() => undefined);
    queues.set(origin, tail);
    void tail.then(() => {
      if (queues.get(origin) === tail) queues.delete(origin);
    });
    return result;
  }

  async function decide(oldSize: number, proof: readonly Uint8Array[], checkpoint: Checkpoint, trusted: ReturnType<typeof parseNote>): Promise<string> {
    const latest = journal.latest(checkpoint.origin);
    // A client that lost the answer sends the same checkpoint again: the same answer, whatever `old` it states.
    if (latest !== undefined && latest.checkpoint.text === checkpoint.text) return latest.record.signature;
    if (latest?.record.final === true) throw new AlreadyFinal(`${shown(checkpoint.origin)} already ended with a final checkpoint at ${latest.record.size}`);
    const latestSize = latest?.record.size ?? 0;
    if (oldSize !== latestSize) throw new OldSizeMismatch(`this witness's latest checkpoint for the origin has size ${latestSize}, not ${oldSize}`, latestSize);
    if (checkpoint.size < oldSize) throw new SizeWentBackwards(`the checkpoint's size ${checkpoint.size} is below the old size ${oldSize}`);
    if (checkpoint.size === 0 && !equalHashes(checkpoint.rootHash, emptyRootHash())) throw new ProofInconsistent('a checkpoint of size 0 must carry the empty tree\'s root');
    if (latest !== undefined && checkpoint.size === latest.record.size && !equalHashes(checkpoint.rootHash, latest.checkpoint.rootHash)) {
      throw new RootConflict(`the checkpoint has size ${checkpoint.size}, like this witness's latest, and another root: history was rewritten`);
    }
    checkSuccession(latest?.checkpoint, checkpoint, proof);
    const signature = signNote(checkpoint.text, [signer]).slice(checkpoint.text.length + 1);
    const cosigned = `${formatNote(trusted)}${signature}`;
    await journal.append({
      origin: checkpoint.origin,
      size: checkpoint.size,
      note: cosigned,
      signature,
      final: isFinalCheckpoint(checkpoint),
      cosignedAt: now().toISOString(),
      vkey: signer.verifierKey,
    });
    return signature;
  }

  return {
    name: signer.name,
    verifierKey: signer.verifierKey,
    async addCheckpoint(body) {
      const { oldSize, proof, note } = parseAddCheckpointRequest(body);
      const checkpoint = parseLogNote(note);
      if (!originPrefixes.some((prefix) => isUnderPrefix(checkpoint.origin, prefix))) {
        throw new OriginNotAccepted(`this witness does not accept checkpoints for ${shown(checkpoint.origin)}`);
      }
      const trusted = verifyLogSignature(note, logKeys);
      return serialized(checkpoint.origin, () => decide(oldSize, proof, checkpoint, trusted));
    },
    latest(prefix) {
      return journal.latestAll().map((entry) => entry.record).filter((record) => prefix === undefined || record.origin.startsWith(prefix));
    },
    async history(origin) {
      const records = await journal.history(origin);
      if (records === undefined) throw new OriginUnknown(`this witness has cosigned no checkpoint for ${shown(origin)}`);
      return records;
    },
    keyList() {
      return {
        name: signer.name,
        keys: keys.history.map((record) => ({ vkey: record.vkey, current: record.vkey === signer.verifierKey, firstUsedAt: record.firstUsedAt })),
      };
    },
  };
}

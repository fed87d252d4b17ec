import { randomBytes } from 'node:crypto';
import {
  createMerkleTree,
  generateNoteKey,
  hashLeaf,
  parseCheckpoint,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  previousCheckpointOf,
  signCheckpoint,
  type Checkpoint,
  type MerkleTree,
  type NoteSigner,
  type NoteVerifier,
} from '../../../isthmus-log-proofs/src/index.ts';

/** The log name the tests use, as the gateway's default. */
export const LOG_NAME = 'isthmus.demo-city/access-log';

/** A signed checkpoint as a gateway would send it. */
export interface SignedCheckpoint {
  readonly note: string;
  readonly checkpoint: Checkpoint;
}

/** What a test chooses about the next checkpoint; by default, the honest one. */
export interface CheckpointChoice {
  /** The tree to take the root from (default: the log's own). */
  readonly tree?: MerkleTree;
  readonly size?: number;
  /** The checkpoint to name as previous (default: the last one made); `null` names none. */
  readonly previous?: SignedCheckpoint | null;
  readonly final?: boolean;
  readonly signer?: NoteSigner;
  readonly origin?: string;
}

/** A gateway chain in miniature: a real Merkle tree, a log key, checkpoints that chain. */
export interface TestLog {
  readonly origin: string;
  readonly signer: NoteSigner;
  readonly verifier: NoteVerifier;
  readonly tree: MerkleTree;
  /** Appends `count` random leaves. */
  append(count: number): void;
  /** Signs a checkpoint (the honest next one by default) and, unless told, makes it the last one. */
  checkpoint(choice?: CheckpointChoice, remember?: boolean): SignedCheckpoint;
  /** The `POST /add-checkpoint` body: `old`, the consistency proof from `oldSize` (from `tree`), the note. */
  body(oldSize: number, signed: SignedCheckpoint, tree?: MerkleTree): string;
}

/** A fresh log key for `name`. */
export function logKey(name = LOG_NAME): { signer: NoteSigner; verifier: NoteVerifier } {
  const key = generateNoteKey(name);
  return { signer: parseSignerKey(key.signerKey), verifier: parseVerifierKey(key.verifierKey) };
}

/** A copy of `tree`'s first `keep` leaves, then `more` other leaves: a rewritten history. */
export function forkTree(tree: MerkleTree, keep: number, more: number): MerkleTree {
  const fork = createMerkleTree(Array.from({ length: keep }, (_, i) => tree.leafHash(i)));
  for (let i = 0; i < more; i += 1) fork.append(hashLeaf(randomBytes(32)));
  return fork;
}

/** Makes a test log for chain `chain` under `LOG_NAME` (or the key given). */
export function createTestLog(chain: string, key = logKey()): TestLog {
  const origin = `${LOG_NAME}/${chain}`;
  const tree = createMerkleTree();
  let last: SignedCheckpoint | undefined;
  let clock = Date.parse('2026-12-04T12:00:00.000Z');
  return {
    origin,
    signer: key.signer,
    verifier: key.verifier,
    tree,
    append(count) {
      for (let i = 0; i < count; i += 1) tree.append(hashLeaf(randomBytes(32)));
    },
    checkpoint(choice = {}, remember = true) {
      const source = choice.tree ?? tree;
      const size = choice.size ?? source.size;
      const previous = choice.previous === undefined ? last : choice.previous ?? undefined;
      clock += 1_000;
      const extensions = [`time ${new Date(clock).toISOString()}`, ...(choice.final === true ? ['final'] : [])];
      const note = signCheckpoint(
        {
          origin: choice.origin ?? origin,
          size,
          rootHash: source.rootHash(size),
          ...(previous === undefined ? {} : { previous: previousCheckpointOf(previous.checkpoint) }),
          extensions,
        },
        choice.signer ?? key.signer,
      );
      const signed = { note, checkpoint: parseCheckpoint(parseNote(note).text) };
      if (remember) last = signed;
      return signed;
    },
    body(oldSize, signed, source = tree) {
      const proof = source.consistencyProof(oldSize, signed.checkpoint.size).map((hash) => `${Buffer.from(hash).toString('base64')}\n`);
      return `old ${oldSize}\n${proof.join('')}\n${signed.note}`;
    },
  };
}

/** One HTTP answer, read whole. */
export interface Answer {
  readonly status: number;
  readonly type: string;
  readonly text: string;
}

/** Posts a body to `<url>/add-checkpoint`. */
export async function addCheckpoint(url: string, body: string): Promise<Answer> {
  const response = await fetch(`${url}/add-checkpoint`, { method: 'POST', body, headers: { 'content-type': 'text/plain' }, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
}

/** Gets JSON from the witness. */
export async function getJson<T = unknown>(url: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: (await response.json()) as T };
}

/** The shape of `GET /checkpoints` and `/checkpoints/history`. */
export interface CheckpointList {
  readonly witness: string;
  readonly origin?: string;
  readonly checkpoints: readonly { origin: string; size: number; note: string; final: boolean; cosignedAt: string }[];
}

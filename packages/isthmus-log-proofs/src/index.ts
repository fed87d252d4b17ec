/**
 * `@isthmus/log-proofs`: the evidence an Isthmus access log hands out, and
 * what anyone needs to check it with nothing but the proof and a public key.
 * RFC 9162 Merkle tree hashing, inclusion and consistency proofs; C2SP
 * signed notes and tlog checkpoints with Ed25519 signatures, each checkpoint
 * naming the one before it, cosigned by witnesses. Depends only on node:crypto.
 */
export { createMerkleTree, type MerkleTree } from './merkle-tree.ts';
export {
  foldPerfect,
  frontierRefs,
  rootFromSubtrees,
  storedRefsOf,
  type Subtree,
  type SubtreeReader,
  type SubtreeRef,
} from './subtree.ts';
export { createMerkleFrontier, loadMerkleFrontier, type MerkleFrontier } from './merkle-frontier.ts';
export { proveConsistencyFrom, proveInclusionFrom, rootHashFrom } from './subtree-proofs.ts';
export { createStridedReader } from './strided-reader.ts';
export { emptyRootHash, equalHashes, hashChildren, hashLeaf, HASH_SIZE } from './merkle-hash.ts';
export { verifyInclusion, type InclusionClaim } from './verify-inclusion.ts';
export { verifyConsistency, type ConsistencyClaim } from './verify-consistency.ts';
export {
  ED25519_ALGORITHM,
  generateNoteKey,
  noteKeyId,
  parseSignerKey,
  parseVerifierKey,
  type GeneratedNoteKey,
  type NoteSigner,
  type NoteVerifier,
} from './note-key.ts';
export {
  cosignNote,
  formatNote,
  MAX_NOTE_SIGNATURES,
  MAX_NOTE_SIZE,
  parseNote,
  signNote,
  verifyNote,
  type Note,
  type NoteSignature,
  type VerifiedNote,
} from './signed-note.ts';
export {
  formatCheckpoint,
  parseCheckpoint,
  previousCheckpointOf,
  PREVIOUS_EXTENSION,
  signCheckpoint,
  verifyCheckpoint,
  verifySuccession,
  type Checkpoint,
  type CheckpointBody,
  type CheckpointPolicy,
  type PreviousCheckpoint,
  type VerifiedCheckpoint,
} from './checkpoint.ts';
export * from './log-proof-error.ts';
export { verifyReceipt, type LogReceipt, type ReceiptPolicy, type VerifiedReceipt } from './verify-receipt.ts';

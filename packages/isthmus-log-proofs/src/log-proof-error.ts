/**
 * Why a proof, a note or a checkpoint was refused. One code per failure, so a
 * verifier's `switch` over them is exhaustive:
 *
 * - proofs: `PROOF_MALFORMED` (sizes, index or hash lengths that no proof can
 *   have), `INCLUSION_FAILED` (the audit path does not lead to the root),
 *   `INCONSISTENT` (the consistency proof does not join the two trees);
 * - notes and keys: `NOTE_MALFORMED`, `KEY_MALFORMED`, `KEY_UNKNOWN` (no
 *   signature by a key the verifier knows), `SIGNATURE_INVALID` (a known key's
 *   signature that does not verify);
 * - checkpoints: `CHECKPOINT_MALFORMED`, `ORIGIN_MISMATCH`,
 *   `COSIGNATURES_INSUFFICIENT` (fewer named witnesses cosigned than required),
 *   `SIZE_WENT_BACKWARDS`, `PREVIOUS_MISMATCH` (a checkpoint does not name the
 *   one before it: one was deleted, replaced or reordered);
 * - the caller's own mistake: `OPTIONS_INVALID` (a quorum larger than the
 *   witnesses named, no log key).
 */
export type LogProofErrorCode =
  | 'PROOF_MALFORMED'
  | 'INCLUSION_FAILED'
  | 'INCONSISTENT'
  | 'NOTE_MALFORMED'
  | 'KEY_MALFORMED'
  | 'KEY_UNKNOWN'
  | 'SIGNATURE_INVALID'
  | 'CHECKPOINT_MALFORMED'
  | 'ORIGIN_MISMATCH'
  | 'COSIGNATURES_INSUFFICIENT'
  | 'SIZE_WENT_BACKWARDS'
  | 'PREVIOUS_MISMATCH'
  | 'OPTIONS_INVALID';

/**
 * The base of every refusal. Messages name sizes, indexes and key names (all
 * public); they never quote a leaf, since a leaf may hold personal data.
 */
export abstract class LogProofError extends Error {
  abstract readonly code: LogProofErrorCode;
  override readonly name: string = this.constructor.name;
}

/** A size, index, hash length or proof length that no valid proof can have. */
export class ProofMalformed extends LogProofError {
  readonly code = 'PROOF_MALFORMED';
}

/** The audit path, hashed up from the leaf, does not give the tree's root. */
export class InclusionFailed extends LogProofError {
  readonly code = 'INCLUSION_FAILED';
}

/** The consistency proof does not show the smaller tree as a prefix of the larger. */
export class Inconsistent extends LogProofError {
  readonly code = 'INCONSISTENT';
}

/** Not a signed note: no blank line before the signatures, a bad signature line, not UTF-8, … */
export class NoteMalformed extends LogProofError {
  readonly code = 'NOTE_MALFORMED';
}

/** A verifier or signer key string that is not `<name>+<hex id>+<base64 key>` of an Ed25519 key. */
export class KeyMalformed extends LogProofError {
  readonly code = 'KEY_MALFORMED';
}

/** The note carries no signature by any key the verifier was given. */
export class KeyUnknown extends LogProofError {
  readonly code = 'KEY_UNKNOWN';
}

/** A signature line names a known key (name and id) but its signature does not verify. */
export class SignatureInvalid extends LogProofError {
  readonly code = 'SIGNATURE_INVALID';
  /** The key's name, as the signature line gives it. */
  readonly keyName: string;
  constructor(message: string, keyName: string, options?: ErrorOptions) {
    super(message, options);
    this.keyName = keyName;
  }
}

/** A signed note whose body is not `<origin>\n<size>\n<base64 root>\n` plus extension lines. */
export class CheckpointMalformed extends LogProofError {
  readonly code = 'CHECKPOINT_MALFORMED';
}

/** The checkpoint is for another log (its first line is not the origin expected). */
export class OriginMismatch extends LogProofError {
  readonly code = 'ORIGIN_MISMATCH';
}

/** Fewer of the named witnesses cosigned than the verifier requires. */
export class CosignaturesInsufficient extends LogProofError {
  readonly code = 'COSIGNATURES_INSUFFICIENT';
  /** How many distinct witnesses were required. */
  readonly required: number;
  /** The witnesses whose cosignatures verified. */
  readonly cosignedBy: readonly string[];
  constructor(message: string, required: number, cosignedBy: readonly string[], options?: ErrorOptions) {
    super(message, options);
    this.required = required;
    this.cosignedBy = cosignedBy;
  }
}

/** A later checkpoint commits to fewer entries than an earlier one. */
export class SizeWentBackwards extends LogProofError {
  readonly code = 'SIZE_WENT_BACKWARDS';
}

/** A checkpoint's `previous` line does not name the checkpoint before it. */
export class PreviousMismatch extends LogProofError {
  readonly code = 'PREVIOUS_MISMATCH';
}

/** A verifier's options that cannot be met, found before anything is checked. */
export class OptionsInvalid extends LogProofError {
  readonly code = 'OPTIONS_INVALID';
}

/** Whether `error` is one of this package's refusals. */
export function isLogProofError(error: unknown): error is LogProofError {
  return error instanceof LogProofError;
}

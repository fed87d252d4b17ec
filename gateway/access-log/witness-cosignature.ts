import { verifyNote, type NoteVerifier } from '../../packages/isthmus-log-proofs/src/index.ts';
import { withCosignatures } from './log-tree-store.ts';

/** A consistency proof as `add-checkpoint` carries it: one base64 hash a line. */
export function encodeBase64Proof(proof: readonly Uint8Array[]): string {
  return proof.map((hash) => `${Buffer.from(hash).toString('base64')}\n`).join('');
}

/**
 * Whether `signatureLines` (what a witness returned) hold a valid signature
 * of `note`'s text by `witness`, and nothing that is not a signature line.
 */
export function verifyCosignature(note: string, signatureLines: string, witness: NoteVerifier): boolean {
  if (signatureLines.trim() === '' || !signatureLines.split('\n').filter((line) => line !== '').every((line) => line.startsWith('\u2014 '))) return false;
  try {
    return verifyNote(withCosignatures(note, [signatureLines]), [witness]).verifiedBy.some((key) => key.name === witness.name);
  } catch {
    return false;
  }
}

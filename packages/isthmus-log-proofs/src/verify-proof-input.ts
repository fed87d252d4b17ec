import { ProofMalformed } from './log-proof-error.ts';
import { HASH_SIZE } from './merkle-hash.ts';

/** Throws `ProofMalformed` unless `n` is a whole number a tree size or index can be. */
export function checkCount(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new ProofMalformed(`${what} must be a whole number ≥ 0, not ${n}`);
}

/** Throws `ProofMalformed` unless `hash` (or every hash of a proof) is a SHA-256 hash. */
export function checkHashes(what: string, ...hashes: readonly Uint8Array[]): void {
  for (const hash of hashes) {
    if (!(hash instanceof Uint8Array) || hash.length !== HASH_SIZE) {
      throw new ProofMalformed(`${what} must be ${HASH_SIZE}-byte hashes`);
    }
  }
}

/** One step up the tree for both walks of RFC 9162's verifiers: halves the node numbers. */
export function half(n: number): number {
  return Math.floor(n / 2);
}

import { Inconsistent, ProofMalformed } from './log-proof-error.ts';
import { emptyRootHash, equalHashes, hashChildren, isPowerOfTwo } from './merkle-hash.ts';
import { checkCount, checkHashes, half } from './verify-proof-input.ts';

/** What a consistency proof claims: the tree of `firstSize` leaves with `firstRoot` is a prefix of the tree of `secondSize` with `secondRoot`. */
export interface ConsistencyClaim {
  readonly firstSize: number;
  readonly firstRoot: Uint8Array;
  readonly secondSize: number;
  readonly secondRoot: Uint8Array;
  /** `MerkleTree.consistencyProof(firstSize, secondSize)`. */
  readonly proof: readonly Uint8Array[];
}

/**
 * Checks a consistency proof by RFC 9162 §2.1.4.2, with nothing but the
 * claim: returns quietly when the second tree extends the first without
 * changing it, throws `ProofMalformed` when the first size exceeds the second
 * or a hash has the wrong length, and `Inconsistent` for any other mismatch.
 * Equal sizes need an empty proof and equal roots; size 0 an empty proof and
 * the empty tree's root (the RFC leaves both undefined; every tree extends the
 * empty one).
 */
export function verifyConsistency(claim: ConsistencyClaim): void {
  const { firstSize, firstRoot, secondSize, secondRoot, proof } = claim;
  checkCount('a tree size', firstSize);
  checkCount('a tree size', secondSize);
  checkHashes('the roots', firstRoot, secondRoot);
  checkHashes('a consistency proof', ...proof);
  if (firstSize > secondSize) {
    throw new ProofMalformed(`a consistency proof goes from a smaller tree to a larger one, not from ${firstSize} to ${secondSize}`);
  }
  const fail = (why: string) => new Inconsistent(`the tree of ${firstSize} is not shown to be a prefix of the tree of ${secondSize}: ${why}`);
  if (firstSize === 0) {
    if (!equalHashes(firstRoot, emptyRootHash())) throw fail('the empty tree has another root');
    if (proof.length !== 0) throw fail('the proof from the empty tree is empty');
    return;
  }
  if (firstSize === secondSize) {
    if (proof.length !== 0) throw fail('the proof between equal sizes is empty');
    if (!equalHashes(firstRoot, secondRoot)) throw fail('equal sizes, different roots');
    return;
  }
  if (proof.length === 0) throw fail('the proof is empty');

  // When the first tree is complete its root is a node of the second, and the RFC's walk starts from it.
  const path = isPowerOfTwo(firstSize) ? [firstRoot, ...proof] : proof;
  let fn = firstSize - 1;
  let sn = secondSize - 1;
  while (fn % 2 === 1) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) throw fail('the proof is too long');
    if (fn % 2 === 1 || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw fail('the proof is too short');
  if (!equalHashes(fr, firstRoot)) throw fail('it does not rebuild the first root');
  if (!equalHashes(sr, secondRoot)) throw fail('it does not rebuild the second root');
}

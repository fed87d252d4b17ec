import { InclusionFailed } from './log-proof-error.ts';
import { equalHashes, hashChildren } from './merkle-hash.ts';
import { checkCount, checkHashes, half } from './verify-proof-input.ts';

/** What an inclusion proof claims: leaf `index`, whose hash is `leafHash`, is in the tree of `size` leaves whose root is `rootHash`. */
export interface InclusionClaim {
  readonly index: number;
  readonly size: number;
  readonly leafHash: Uint8Array;
  readonly rootHash: Uint8Array;
  /** The audit path, from the leaf's sibling upwards (`MerkleTree.inclusionProof`). */
  readonly proof: readonly Uint8Array[];
}

/**
 * Checks an inclusion proof by RFC 9162 §2.1.3.2, with nothing but the claim:
 * returns quietly when the path leads from the leaf to the root, throws
 * `ProofMalformed` for an index outside the tree or hashes of the wrong
 * length, and `InclusionFailed` for any other mismatch (a changed leaf, path,
 * index, size or root).
 *
 * @example
 * verifyInclusion({ index: 41, size: checkpoint.size, leafHash: hashLeaf(entry), rootHash: checkpoint.rootHash, proof });
 */
export function verifyInclusion(claim: InclusionClaim): void {
  const { index, size, leafHash, rootHash, proof } = claim;
  checkCount('a leaf index', index);
  checkCount('a tree size', size);
  checkHashes('the leaf and root', leafHash, rootHash);
  checkHashes('an audit path', ...proof);
  if (index >= size) throw new InclusionFailed(`a tree of ${size} has no leaf ${index}`);

  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) throw new InclusionFailed(`the audit path is too long for leaf ${index} of ${size}`);
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r);
      // A right-edge node without a sibling at this level: climb until it is a right child.
      while (fn % 2 === 0 && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0 || !equalHashes(r, rootHash)) {
    throw new InclusionFailed(`the audit path does not lead from leaf ${index} to the root of the tree of ${size}`);
  }
}

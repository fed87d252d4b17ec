import { ProofMalformed } from './log-proof-error.ts';
import { emptyRootHash, HASH_SIZE, hashChildren, isPowerOfTwo, splitPoint } from './merkle-hash.ts';

/**
 * An append-only RFC 9162 Merkle tree that keeps the hash of every complete,
 * aligned subtree: level 0 holds the leaf hashes, level h the hashes of the
 * subtrees of 2^h leaves starting at multiples of 2^h.
 *
 * Cost, for n leaves: about 2n stored hashes (64 bytes of hash a leaf); an
 * append hashes at most log2(n) nodes (one on average); a root, an inclusion
 * proof or a consistency proof for any size up to n reads stored subtrees and
 * hashes only the incomplete right edge, O(log² n) hashes at worst (a few
 * hundred at 100k leaves) instead of recomputing the n − 1 inner nodes.
 * Those stored levels are what a database would keep to serve proofs.
 */
export interface MerkleTree {
  /** How many leaves the tree holds. */
  readonly size: number;
  /** Appends one leaf by its leaf hash (`hashLeaf(entry)`), and returns the new size. */
  append(leafHash: Uint8Array): number;
  /** The leaf hash at `index`. */
  leafHash(index: number): Uint8Array;
  /** MTH of the first `size` leaves (default: all of them); the empty tree's is SHA-256(""). */
  rootHash(size?: number): Uint8Array;
  /**
   * RFC 9162 §2.1.3.1 PATH(index, D[0:size]): the audit path of leaf `index`
   * in the tree of the first `size` leaves, from the leaf's sibling upwards.
   */
  inclusionProof(index: number, size?: number): readonly Uint8Array[];
  /**
   * RFC 9162 §2.1.4.1 PROOF(first, D[0:second]): the consistency proof that
   * the tree of `first` leaves is a prefix of the tree of `second` (default:
   * all). Empty when `first` is 0 or equals `second`.
   */
  consistencyProof(first: number, second?: number): readonly Uint8Array[];
}

/**
 * Builds a tree, optionally from leaf hashes already known (in order).
 *
 * @example
 * const tree = createMerkleTree(entries.map((entry) => hashLeaf(entry)));
 * const proof = tree.inclusionProof(41);           // for a receipt
 * const root = tree.rootHash();                     // for a checkpoint
 */
export function createMerkleTree(leafHashes: Iterable<Uint8Array> = []): MerkleTree {
  const levels: Uint8Array[][] = [[]];

  function append(leafHash: Uint8Array): number {
    if (leafHash.length !== HASH_SIZE) throw new ProofMalformed(`a leaf hash is ${HASH_SIZE} bytes, not ${leafHash.length}`);
    let hash: Uint8Array = leafHash.slice();
    let level = 0;
    for (;;) {
      const row = levels[level]!;
      row.push(hash);
      // An even count means the node just added completed a pair: its parent is now complete too.
      if (row.length % 2 !== 0) break;
      hash = hashChildren(row[row.length - 2]!, hash);
      level += 1;
      levels[level] ??= [];
    }
    return levels[0]!.length;
  }

  function size(): number {
    return levels[0]!.length;
  }

  /** MTH(D[start:end]) for a range the RFC's recursion reaches: start is a multiple of a power of two ≥ end − start. */
  function subtreeHash(start: number, end: number): Uint8Array {
    const width = end - start;
    if (isPowerOfTwo(width)) {
      const stored = levels[Math.log2(width)]?.[start / width];
      if (stored !== undefined) return stored;
    }
    const k = splitPoint(width);
    return hashChildren(subtreeHash(start, start + k), subtreeHash(start + k, end));
  }

  function checkSize(n: number): number {
    if (!Number.isSafeInteger(n) || n < 0 || n > size()) {
      throw new ProofMalformed(`a tree size must be a whole number from 0 to ${size()}, not ${n}`);
    }
    return n;
  }

  function path(index: number, start: number, end: number): Uint8Array[] {
    if (end - start === 1) return [];
    const k = splitPoint(end - start);
    return index < k
      ? [...path(index, start, start + k), subtreeHash(start + k, end)]
      : [...path(index - k, start + k, end), subtreeHash(start, start + k)];
  }

  function subproof(first: number, start: number, end: number, whole: boolean): Uint8Array[] {
    if (first === end - start) return whole ? [] : [subtreeHash(start, end)];
    const k = splitPoint(end - start);
    return first <= k
      ? [...subproof(first, start, start + k, whole), subtreeHash(start + k, end)]
      : [...subproof(first - k, start + k, end, false), subtreeHash(start, start + k)];
  }

  for (const leafHash of leafHashes) append(leafHash);

  return {
    get size() {
      return size();
    },
    append,
    leafHash(index) {
      if (!Number.isSafeInteger(index) || index < 0 || index >= size()) {
        throw new ProofMalformed(`no leaf ${index} in a tree of ${size()}`);
      }
      return levels[0]![index]!.slice();
    },
    rootHash(n = size()) {
      checkSize(n);
      return n === 0 ? emptyRootHash() : subtreeHash(0, n).slice();
    },
    inclusionProof(index, n = size()) {
      checkSize(n);
      if (!Number.isSafeInteger(index) || index < 0 || index >= n) {
        throw new ProofMalformed(`no leaf ${index} in a tree of ${n}`);
      }
      return path(index, 0, n).map((hash) => hash.slice());
    },
    consistencyProof(first, second = size()) {
      checkSize(second);
      if (!Number.isSafeInteger(first) || first < 0 || first > second) {
        throw new ProofMalformed(`a consistency proof goes from a smaller tree to a larger one, not from ${first} to ${second}`);
      }
      if (first === 0 || first === second) return [];
      return subproof(first, 0, second, true).map((hash) => hash.slice());
    },
  };
}

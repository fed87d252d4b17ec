import { OptionsInvalid, ProofMalformed } from './log-proof-error.ts';
import { emptyRootHash, splitPoint } from './merkle-hash.ts';
import { readSubtrees } from './read-subtrees.ts';
import { checkWhole, rangeRefs, rootFromSubtrees, type SubtreeReader } from './subtree.ts';

/**
 * A proof node as a range of leaves [start, end) that RFC 9162's recursion
 * reaches: either one perfect aligned subtree, or an incomplete right edge
 * whose hash is the fold of its perfect decomposition.
 */
interface Range {
  readonly start: number;
  readonly end: number;
}

/** RFC 9162 §2.1.3.1 PATH(m, D[start:end]) as ranges, from the leaf's sibling upwards. */
function pathRanges(m: number, start: number, end: number): Range[] {
  const nodes: Range[] = [];
  // Walk down from the root and collect siblings; they come out top first, the proof wants them leaf first.
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (m < k) {
      nodes.push({ start: start + k, end });
      end = start + k;
    } else {
      nodes.push({ start, end: start + k });
      m -= k;
      start += k;
    }
  }
  return nodes.reverse();
}

/** RFC 9162 §2.1.4.1 SUBPROOF(m, D[start:end], b) as ranges, in proof order. */
function subproofRanges(m: number, start: number, end: number): Range[] {
  const nodes: Range[] = [];
  let whole = true;
  while (m !== end - start) {
    const k = splitPoint(end - start);
    if (m <= k) {
      nodes.push({ start: start + k, end });
      end = start + k;
    } else {
      nodes.push({ start, end: start + k });
      m -= k;
      start += k;
      whole = false;
    }
  }
  if (!whole) nodes.push({ start, end });
  return nodes.reverse();
}

/** Reads every subtree the ranges need in one call of `read` and folds each range's hash. */
async function hashRanges(read: SubtreeReader, ranges: readonly Range[]): Promise<Uint8Array[]> {
  const plans = ranges.map(({ start, end }) => rangeRefs(start, end));
  const hashOf = await readSubtrees(read, plans.flat());
  return plans.map((plan) => rootFromSubtrees(plan.map(hashOf)));
}

function checkReader(read: SubtreeReader): void {
  if (typeof read !== 'function') throw new OptionsInvalid('a subtree reader is a function');
}

/**
 * The RFC 9162 audit path of leaf `index` in the tree of `size` leaves (what
 * `verifyInclusion` checks), from the subtree hashes `read` returns: one call
 * of `read` with every perfect subtree the path needs (none for a tree of one
 * leaf). Throws `ProofMalformed` for an index outside the tree.
 *
 * @example
 * const proof = await proveInclusionFrom(readStoredSubtrees, entry.seq - 1, checkpoint.size);
 */
export async function proveInclusionFrom(read: SubtreeReader, index: number, size: number): Promise<Uint8Array[]> {
  checkReader(read);
  checkWhole('a leaf index', index);
  checkWhole('a tree size', size);
  if (index >= size) throw new ProofMalformed(`no leaf ${index} in a tree of ${size}`);
  return hashRanges(read, pathRanges(index, 0, size));
}

/**
 * The RFC 9162 consistency proof from the tree of `first` leaves to the tree
 * of `second` (what `verifyConsistency` checks), from one call of `read`
 * (none when the proof is empty: `first` is 0 or equals `second`). Throws
 * `ProofMalformed` when `first` exceeds `second`.
 *
 * @example
 * const proof = await proveConsistencyFrom(readStoredSubtrees, witnessed.size, checkpoint.size);
 */
export async function proveConsistencyFrom(read: SubtreeReader, first: number, second: number): Promise<Uint8Array[]> {
  checkReader(read);
  checkWhole('a tree size', first);
  checkWhole('a tree size', second);
  if (first > second) {
    throw new ProofMalformed(`a consistency proof goes from a smaller tree to a larger one, not from ${first} to ${second}`);
  }
  if (first === 0 || first === second) return [];
  return hashRanges(read, subproofRanges(first, 0, second));
}

/**
 * MTH of the first `size` leaves from one call of `read` (the perfect
 * decomposition of `size`; none for size 0, whose root is `emptyRootHash()`).
 */
export async function rootHashFrom(read: SubtreeReader, size: number): Promise<Uint8Array> {
  checkReader(read);
  checkWhole('a tree size', size);
  if (size === 0) return emptyRootHash();
  const [root] = await hashRanges(read, [{ start: 0, end: size }]);
  return root!;
}

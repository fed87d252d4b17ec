import { OptionsInvalid, ProofMalformed } from './log-proof-error.ts';
import { hashChildren } from './merkle-hash.ts';
import { readSubtrees } from './read-subtrees.ts';
import {
  checkRef,
  checkSubtreeHashes,
  checkWhole,
  frontierRefs,
  rootFromSubtrees,
  type Subtree,
  type SubtreeReader,
} from './subtree.ts';

/**
 * The right edge of an append-only RFC 9162 tree: the perfect decomposition
 * of its size, O(log n) hashes — enough to append and to give the root, and
 * nothing else. A log writer keeps one per chain and stores what `append`
 * completes; proofs come from those stored subtrees (`proveInclusionFrom`).
 */
export interface MerkleFrontier {
  /** How many leaves the tree holds. */
  readonly size: number;
  /**
   * Appends a leaf hash (`hashLeaf(entry)`); returns every complete aligned
   * subtree of level ≥ 1 it completed, lowest level first (as many as the
   * new size has trailing zero bits).
   */
  append(leafHash: Uint8Array): readonly Subtree[];
  /** MTH of all the leaves; `emptyRootHash()` for size 0. */
  rootHash(): Uint8Array;
  /** The perfect decomposition of `size`, largest (leftmost) first: `frontierRefs(size)` with hashes. */
  readonly subtrees: readonly Subtree[];
}

const copyOf = (subtree: Subtree): Subtree => ({ level: subtree.level, index: subtree.index, hash: subtree.hash.slice() });

/**
 * Starts a frontier, empty or where a stored tree left off: `from` is
 * `frontierRefs(n)` with their hashes, in that order (refused with
 * `OptionsInvalid` otherwise). Appending to a restored frontier gives the
 * same roots and subtrees as never having stopped.
 *
 * @example
 * const frontier = createMerkleFrontier();
 * for (const subtree of frontier.append(hashLeaf(entryHash))) if (subtree.level % 4 === 0) store(subtree);
 * const root = frontier.rootHash();   // for the next checkpoint
 */
export function createMerkleFrontier(from: readonly Subtree[] = []): MerkleFrontier {
  const edge: Subtree[] = restore(from);
  let size = edge.reduce((total, subtree) => total + 2 ** subtree.level, 0);

  function append(leafHash: Uint8Array): readonly Subtree[] {
    checkSubtreeHashes('a leaf hash', [leafHash]);
    if (size >= Number.MAX_SAFE_INTEGER) throw new ProofMalformed('the tree is as large as safe integers can index');
    let top: Subtree = { level: 0, index: size, hash: leafHash.slice() };
    const completed: Subtree[] = [];
    // Two neighbours of one level always pair: the right edge keeps at most one subtree a level.
    while (edge.length > 0 && edge[edge.length - 1]!.level === top.level) {
      const left = edge.pop()!;
      top = { level: top.level + 1, index: left.index / 2, hash: hashChildren(left.hash, top.hash) };
      completed.push(copyOf(top));
    }
    edge.push(top);
    size += 1;
    return completed;
  }

  return {
    get size() {
      return size;
    },
    append,
    rootHash: () => rootFromSubtrees(edge.map((subtree) => subtree.hash)),
    get subtrees() {
      return edge.map(copyOf);
    },
  };
}

/**
 * Reads the frontier of a stored tree of `size` leaves in one call of `read`
 * (none for size 0) and starts a frontier there.
 *
 * @example
 * const frontier = await loadMerkleFrontier(readStoredSubtrees, lastSeq);
 */
export async function loadMerkleFrontier(read: SubtreeReader, size: number): Promise<MerkleFrontier> {
  const refs = frontierRefs(size);
  const hashOf = await readSubtrees(read, refs);
  return createMerkleFrontier(refs.map((ref) => ({ ...ref, hash: hashOf(ref) })));
}

function restore(from: readonly Subtree[]): Subtree[] {
  if (!Array.isArray(from)) throw new OptionsInvalid('a frontier starts from a list of subtrees');
  let size = 0;
  for (const subtree of from) {
    checkRef(subtree);
    checkSubtreeHashes('a frontier subtree', [subtree.hash]);
    size += 2 ** subtree.level;
  }
  checkWhole('a frontier size', size);
  const expected = frontierRefs(size);
  const matches = expected.length === from.length && expected.every((ref, i) => ref.level === from[i]!.level && ref.index === from[i]!.index);
  if (!matches) {
    throw new OptionsInvalid(`a frontier starts from frontierRefs(n) in order, largest first; these ${from.length} subtrees are not that`);
  }
  return from.map(copyOf);
}

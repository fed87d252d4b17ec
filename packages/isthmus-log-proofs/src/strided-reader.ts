import { OptionsInvalid } from './log-proof-error.ts';
import { readSubtrees } from './read-subtrees.ts';
import { foldPerfect, storedRefsOf, type SubtreeRef, type SubtreeReader } from './subtree.ts';

/**
 * A reader of every level over storage that keeps only the levels that are
 * multiples of `stride` (level 0 = the leaf hashes): each ref asked for is
 * mapped to its stored refs (`storedRefsOf`), all of them are read in one call
 * of `readStored` (deduplicated), and each ref is folded back (`foldPerfect`).
 * With stride 4 a ref costs at most 8 stored rows, so one proof is one query
 * of a few hundred rows at most.
 *
 * @example
 * const read = createStridedReader((refs) => selectNodes(db, chainId, refs), 4);
 * const proof = await proveInclusionFrom(read, leafIndex, treeSize);
 */
export function createStridedReader(readStored: SubtreeReader, stride: number): SubtreeReader {
  if (typeof readStored !== 'function') throw new OptionsInvalid('a subtree reader is a function');
  storedRefsOf({ level: 0, index: 0 }, stride);
  return async function readStrided(refs: readonly SubtreeRef[]): Promise<readonly Uint8Array[]> {
    const plans = refs.map((ref) => storedRefsOf(ref, stride));
    const hashOf = await readSubtrees(readStored, plans.flat());
    return plans.map((plan) => foldPerfect(plan.map(hashOf)));
  };
}

import { OptionsInvalid, ProofMalformed } from './log-proof-error.ts';
import { emptyRootHash, HASH_SIZE, hashChildren, isPowerOfTwo } from './merkle-hash.ts';

/**
 * A perfect aligned subtree, by position: the 2^level leaves
 * [index·2^level, (index+1)·2^level). Level 0 is one leaf (its leaf hash).
 */
export interface SubtreeRef {
  readonly level: number;
  readonly index: number;
}

/** A perfect aligned subtree and its hash (MTH of its leaves). */
export interface Subtree extends SubtreeRef {
  readonly hash: Uint8Array;
}

/**
 * Reads perfect aligned subtree hashes (level 0 = leaf hashes), answering in
 * the order asked, one hash per ref. The provers call it once per proof with
 * every ref the proof needs, so a database answers a proof with one query.
 *
 * @example
 * const read: SubtreeReader = async (refs) => refs.map(({ level, index }) => levels[level]![index]!);
 */
export type SubtreeReader = (refs: readonly SubtreeRef[]) => Promise<readonly Uint8Array[]>;

// 2^53 leaves is past any safe integer index; no level above 52 can exist.
const MAX_LEVEL = 52;

/** Throws `ProofMalformed` unless `n` is a whole number ≥ 0 that indexes exactly. */
export function checkWhole(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new ProofMalformed(`${what} must be a whole number ≥ 0, not ${n}`);
}

/** Throws `ProofMalformed` unless `ref` names a subtree whose leaves all have safe indexes. */
export function checkRef(ref: SubtreeRef): void {
  if (ref === null || typeof ref !== 'object') throw new ProofMalformed('a subtree ref is an object { level, index }');
  checkWhole('a subtree level', ref.level);
  checkWhole('a subtree index', ref.index);
  if (ref.level > MAX_LEVEL || (ref.index + 1) * 2 ** ref.level > Number.MAX_SAFE_INTEGER + 1) {
    throw new ProofMalformed(`no subtree at level ${ref.level}, index ${ref.index} has safe leaf indexes`);
  }
}

/** Throws `ProofMalformed` unless every hash is a 32-byte `Uint8Array`. */
export function checkSubtreeHashes(what: string, hashes: readonly Uint8Array[]): void {
  for (const hash of hashes) {
    if (!(hash instanceof Uint8Array) || hash.length !== HASH_SIZE) {
      throw new ProofMalformed(`${what} must be ${HASH_SIZE}-byte hashes`);
    }
  }
}

/**
 * The perfect decomposition of the leaves [start, end), largest (leftmost)
 * first: one subtree per set bit of end − start. `start` must be a multiple
 * of the largest piece (true of every range RFC 9162's recursion reaches).
 */
export function rangeRefs(start: number, end: number): SubtreeRef[] {
  const refs: SubtreeRef[] = [];
  let at = start;
  let left = end - start;
  for (let level = MAX_LEVEL; level >= 0 && left > 0; level -= 1) {
    const width = 2 ** level;
    if (left < width) continue;
    if (at % width !== 0) throw new ProofMalformed(`the leaves from ${start} to ${end} are not an aligned range`);
    refs.push({ level, index: at / width });
    at += width;
    left -= width;
  }
  return refs;
}

/**
 * The perfect decomposition of a tree of `size` leaves, largest (leftmost)
 * first: what a frontier holds, and what a database reads to resume one.
 *
 * @example
 * frontierRefs(13); // [{ level: 3, index: 0 }, { level: 2, index: 2 }, { level: 0, index: 12 }]
 */
export function frontierRefs(size: number): readonly SubtreeRef[] {
  checkWhole('a tree size', size);
  return rangeRefs(0, size);
}

/**
 * The root of a range from its perfect decomposition (largest first), folded
 * right to left as RFC 9162 splits it: `H(s0, H(s1, … H(sₙ₋₂, sₙ₋₁)))`. The
 * empty decomposition gives the empty tree's root.
 */
export function rootFromSubtrees(subtrees: readonly Uint8Array[]): Uint8Array {
  checkSubtreeHashes('the subtrees of a decomposition', subtrees);
  if (subtrees.length === 0) return emptyRootHash();
  let root = subtrees[subtrees.length - 1]!;
  for (let i = subtrees.length - 2; i >= 0; i -= 1) root = hashChildren(subtrees[i]!, root);
  return root.slice();
}

/**
 * Hashes 2^k hashes of one level (left to right) up to their common parent,
 * k levels higher; one hash is its own parent. With `storedRefsOf` this turns
 * the stored levels back into any level.
 */
export function foldPerfect(hashes: readonly Uint8Array[]): Uint8Array {
  checkSubtreeHashes('the hashes to fold', hashes);
  const count = hashes.length;
  if (!isPowerOfTwo(count)) {
    throw new ProofMalformed(`a perfect subtree folds from a power of two of hashes, not ${count}`);
  }
  let row: readonly Uint8Array[] = hashes;
  while (row.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < row.length; i += 2) next.push(hashChildren(row[i]!, row[i + 1]!));
    row = next;
  }
  return row[0]!.slice();
}

/**
 * For storage that keeps only the levels that are multiples of `stride`
 * (level 0 = the leaves): the stored refs whose fold (`foldPerfect`) is `ref`.
 * A ref at a stored level is its own; otherwise the 2^(level mod stride)
 * refs, left to right, at level stride·⌊level/stride⌋ that it covers.
 *
 * @example
 * storedRefsOf({ level: 6, index: 3 }, 4); // level 4, indexes 12, 13, 14, 15
 */
export function storedRefsOf(ref: SubtreeRef, stride: number): readonly SubtreeRef[] {
  if (!Number.isSafeInteger(stride) || stride < 1 || stride > MAX_LEVEL) {
    throw new OptionsInvalid(`a stride is a whole number of levels from 1 to ${MAX_LEVEL}, not ${stride}`);
  }
  checkRef(ref);
  const below = ref.level % stride;
  const level = ref.level - below;
  const count = 2 ** below;
  return Array.from({ length: count }, (_, i) => ({ level, index: ref.index * count + i }));
}

/**
 * The tree arithmetic the gateway's log tree needs, with the signatures of
 * the proofs package's section-7 API (issue 12's contract): a frontier to
 * append to, perfect decompositions, and proofs over a subtree reader.
 *
 * Interim: written here so the writer could be built and tested before the
 * proofs package's API landed on main. Once it has, this file re-exports
 * it and nothing else changes.
 */
import { emptyRootHash, hashChildren } from '../../packages/isthmus-log-proofs/src/index.ts';

/** A perfect aligned subtree: leaves [index·2^level, (index+1)·2^level). */
export interface SubtreeRef {
  readonly level: number;
  readonly index: number;
}
/** A subtree and its hash. */
export interface Subtree extends SubtreeRef {
  readonly hash: Uint8Array;
}
/** Reads perfect aligned subtree hashes (level 0 = leaf hashes), answering in the order asked. */
export type SubtreeReader = (refs: readonly SubtreeRef[]) => Promise<readonly Uint8Array[]>;

/** The right edge of an append-only tree: O(log n) hashes, enough to append and to give the root. */
export interface MerkleFrontier {
  readonly size: number;
  /** Appends a leaf hash; returns every complete aligned subtree (level ≥ 1) it completed, lowest level first. */
  append(leafHash: Uint8Array): readonly Subtree[];
  rootHash(): Uint8Array;
  readonly subtrees: readonly Subtree[];
}

/** The perfect decomposition of `size` leaves: largest (leftmost) subtree first. */
export function frontierRefs(size: number): readonly SubtreeRef[] {
  const refs: SubtreeRef[] = [];
  let offset = 0;
  for (let level = 52; level >= 0; level--) {
    const width = 2 ** level;
    if (size - offset >= width) {
      refs.push({ level, index: offset / width });
      offset += width;
    }
  }
  return refs;
}

/** Folds a decomposition's hashes right to left into the root; the empty tree's root for none. */
export function rootFromSubtrees(subtrees: readonly Uint8Array[]): Uint8Array {
  if (subtrees.length === 0) return emptyRootHash();
  let hash = subtrees[subtrees.length - 1]!;
  for (let i = subtrees.length - 2; i >= 0; i--) hash = hashChildren(subtrees[i]!, hash);
  return hash;
}

/** A frontier starting from `from` (the decomposition `frontierRefs(n)` with hashes), or empty. */
export function createMerkleFrontier(from: readonly Subtree[] = []): MerkleFrontier {
  const stack: Subtree[] = [...from];
  let size = from.reduce((sum, subtree) => sum + 2 ** subtree.level, 0);
  return {
    get size() {
      return size;
    },
    get subtrees() {
      return [...stack];
    },
    append(leafHash) {
      const completed: Subtree[] = [];
      stack.push({ level: 0, index: size, hash: leafHash });
      size += 1;
      while (stack.length >= 2 && stack[stack.length - 1]!.level === stack[stack.length - 2]!.level) {
        const right = stack.pop()!;
        const left = stack.pop()!;
        const parent = { level: left.level + 1, index: left.index / 2, hash: hashChildren(left.hash, right.hash) };
        stack.push(parent);
        completed.push(parent);
      }
      return completed;
    },
    rootHash: () => rootFromSubtrees(stack.map((subtree) => subtree.hash)),
  };
}

/** The stored refs (levels that are multiples of `stride`) a ref is folded from. */
export function storedRefsOf(ref: SubtreeRef, stride: number): readonly SubtreeRef[] {
  const base = stride * Math.floor(ref.level / stride);
  const count = 2 ** (ref.level - base);
  return Array.from({ length: count }, (_, i) => ({ level: base, index: ref.index * count + i }));
}

/** 2^k hashes of one level → their parent k levels up. */
export function foldPerfect(hashes: readonly Uint8Array[]): Uint8Array {
  let level = [...hashes];
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(hashChildren(level[i]!, level[i + 1]!));
    level = next;
  }
  return level[0]!;
}

/** A range [start, start + size) of a tree whose start is aligned to it, as perfect refs. */
function rangeRefs(start: number, size: number): SubtreeRef[] {
  return frontierRefs(size).map((ref) => ({ level: ref.level, index: start / 2 ** ref.level + ref.index }));
}

function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Reads every group's refs in one call and folds each group to one hash. */
async function readGroups(read: SubtreeReader, groups: readonly SubtreeRef[][]): Promise<Uint8Array[]> {
  const hashes = await read(groups.flat());
  let at = 0;
  return groups.map((group) => {
    const part = hashes.slice(at, at + group.length);
    at += group.length;
    return rootFromSubtrees(part);
  });
}

/** RFC 9162 inclusion proof of leaf `index` in the tree of `size`, in one read. */
export function proveInclusionFrom(read: SubtreeReader, index: number, size: number): Promise<Uint8Array[]> {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) throw new RangeError('proveInclusionFrom: 0 ≤ index < size');
  const groups: SubtreeRef[][] = [];
  const path = (m: number, start: number, n: number): void => {
    if (n === 1) return;
    const k = splitPoint(n);
    if (m < k) {
      path(m, start, k);
      groups.push(rangeRefs(start + k, n - k));
    } else {
      path(m - k, start + k, n - k);
      groups.push(rangeRefs(start, k));
    }
  };
  path(index, 0, size);
  return readGroups(read, groups);
}

/** RFC 9162 consistency proof from the tree of `first` to that of `second`, in one read. */
export function proveConsistencyFrom(read: SubtreeReader, first: number, second: number): Promise<Uint8Array[]> {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second) throw new RangeError('proveConsistencyFrom: 0 ≤ first ≤ second');
  const groups: SubtreeRef[][] = [];
  if (first > 0 && first < second) {
    const subproof = (m: number, start: number, n: number, whole: boolean): void => {
      if (m === n) {
        if (!whole) groups.push(rangeRefs(start, n));
        return;
      }
      const k = splitPoint(n);
      if (m <= k) {
        subproof(m, start, k, whole);
        groups.push(rangeRefs(start + k, n - k));
      } else {
        subproof(m - k, start + k, n - k, false);
        groups.push(rangeRefs(start, k));
      }
    };
    subproof(first, 0, second, true);
  }
  return readGroups(read, groups);
}

/** The root hash of the tree of `size`, in one read. */
export async function rootHashFrom(read: SubtreeReader, size: number): Promise<Uint8Array> {
  const refs = frontierRefs(size);
  return rootFromSubtrees(refs.length === 0 ? [] : await read(refs));
}

import { createHash } from 'node:crypto';

/** The length of every hash in the tree: SHA-256, as RFC 9162 §2.1 uses it. */
export const HASH_SIZE = 32;

// RFC 9162 §2.1.1: the prefixes keep a leaf from ever hashing like an inner
// node, so no one can pass two leaves off as one (a second-preimage attack).
const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/** The hash of one leaf: SHA-256(0x00 || leaf). A log entry's bytes go in, its leaf hash comes out. */
export function hashLeaf(leaf: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(LEAF_PREFIX).update(leaf).digest());
}

/** The hash of an inner node: SHA-256(0x01 || left || right). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest());
}

/** The root hash of the tree with no leaves: SHA-256 of the empty string (RFC 9162 §2.1.1). */
export function emptyRootHash(): Uint8Array {
  return new Uint8Array(createHash('sha256').digest());
}

/** Whether two hashes are the same bytes. Proofs are public, so a plain comparison leaks nothing. */
export function equalHashes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/**
 * The largest power of two smaller than `n` (n ≥ 2): where RFC 9162 splits a
 * tree of n leaves into a complete left subtree and the rest.
 */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Whether `n` is 2^k for some k ≥ 0: a complete subtree's width. */
export function isPowerOfTwo(n: number): boolean {
  const k = Math.log2(n);
  return Number.isInteger(k) && 2 ** k === n;
}

import { createHash } from 'node:crypto';
import type { SubtreeRef } from '../src/subtree.ts';

// The reference the package's property tests check against: RFC 9162
// §2.1.1–2.1.4 (MTH, PATH, PROOF, SUBPROOF) read literally over ranges of
// plain leaves, MTH memoized per range; it shares no code with the frontier
// or the provers beyond SHA-256.
export const sha256 = (...parts: Uint8Array[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
};
const largestPowerOfTwoBelow = (n: number) => 2 ** Math.ceil(Math.log2(n) - 1);
export function referenceTree(leaves: readonly Uint8Array[]) {
  const memo = new Map<string, Uint8Array>();
  function mth(start: number, end: number): Uint8Array {
    const key = `${start}:${end}`;
    let hash = memo.get(key);
    if (hash !== undefined) return hash;
    if (end === start) hash = sha256();
    else if (end - start === 1) hash = sha256(Uint8Array.of(0), leaves[start]!);
    else {
      const k = largestPowerOfTwoBelow(end - start);
      hash = sha256(Uint8Array.of(1), mth(start, start + k), mth(start + k, end));
    }
    memo.set(key, hash);
    return hash;
  }
  function path(m: number, start: number, end: number): Uint8Array[] {
    if (end - start <= 1) return [];
    const k = largestPowerOfTwoBelow(end - start);
    return m < k ? [...path(m, start, start + k), mth(start + k, end)] : [...path(m - k, start + k, end), mth(start, start + k)];
  }
  function subproof(m: number, start: number, end: number, b: boolean): Uint8Array[] {
    if (m === end - start) return b ? [] : [mth(start, end)];
    const k = largestPowerOfTwoBelow(end - start);
    return m <= k
      ? [...subproof(m, start, start + k, b), mth(start + k, end)]
      : [...subproof(m - k, start + k, end, false), mth(start, start + k)];
  }
  return {
    mth,
    root: (n: number) => mth(0, n),
    leafHash: (i: number) => mth(i, i + 1),
    subtree: ({ level, index }: SubtreeRef) => mth(index * 2 ** level, (index + 1) * 2 ** level),
    inclusion: (m: number, n: number) => path(m, 0, n),
    consistency: (m: number, n: number) => (m === 0 || m === n ? [] : subproof(m, 0, n, true)),
  };
}
export type Reference = ReturnType<typeof referenceTree>;

/** A small seeded PRNG (mulberry32): every run draws the same sizes, and a failure names its seed. */
export function prng(seed: number) {
  let a = seed >>> 0;
  return (below: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below);
  };
}

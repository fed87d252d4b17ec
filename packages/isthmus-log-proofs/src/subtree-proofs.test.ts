import { describe, expect, it } from 'vitest';
import { createMerkleFrontier } from './merkle-frontier.ts';
import { createStridedReader } from './strided-reader.ts';
import { proveConsistencyFrom, proveInclusionFrom, rootHashFrom } from './subtree-proofs.ts';
import { verifyConsistency } from './verify-consistency.ts';
import { verifyInclusion } from './verify-inclusion.ts';
import { frontierRefs, type SubtreeRef, type SubtreeReader } from './subtree.ts';
import type { LogProofErrorCode } from './log-proof-error.ts';

import { prng, referenceTree, sha256, type Reference } from '../test/reference-tree.ts';
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const hexes = (hashes: readonly Uint8Array[]) => hashes.map(hex);
function flipped(bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice();
  copy[at % copy.length]! ^= 1 << (at % 8);
  return copy;
}
function codeOf(act: () => void): LogProofErrorCode | 'verified' {
  try {
    act();
    return 'verified';
  } catch (error) {
    return (error as { code: LogProofErrorCode }).code;
  }
}
async function rejectionOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: { code?: string }) => error.code ?? 'no code',
  );
}

const MAX = 3000;
const STRIDE = 4;

/**
 * Two readers over one tree of `size` leaves: (a) every level stored, (b)
 * only levels that are multiples of 4 (the leaves included) behind
 * `createStridedReader`. Both count their calls, refuse duplicates, and
 * refuse any ref reaching past `size` (a proof must never read later leaves).
 */
function readersOf(reference: Reference, size: number) {
  const calls = { all: 0, stored: 0 };
  const check = (refs: readonly SubtreeRef[]) => {
    const keys = refs.map(({ level, index }) => `${level}:${index}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const { level, index } of refs) expect((index + 1) * 2 ** level).toBeLessThanOrEqual(size);
  };
  const all: SubtreeReader = async (refs) => {
    calls.all += 1;
    check(refs);
    return refs.map(reference.subtree);
  };
  const stored = createStridedReader(async (refs) => {
    calls.stored += 1;
    check(refs);
    for (const { level } of refs) expect(level % STRIDE).toBe(0);
    return refs.map(reference.subtree);
  }, STRIDE);
  return { calls, readers: [all, stored] as const };
}

/** Hundreds of sizes: the edges (0, 1, 2, powers of two ± 1) and random ones up to 3000. */
function sizesToTry(random: (below: number) => number): number[] {
  const sizes = [0, 1, 2, 3];
  for (let p = 4; p <= 2048; p *= 2) sizes.push(p - 1, p, p + 1);
  sizes.push(MAX);
  while (sizes.length < 260) sizes.push(1 + random(MAX));
  return sizes;
}

describe('proofs from a subtree reader against the RFC 9162 reference', () => {
  const leaves = Array.from({ length: MAX }, (_, i) => new TextEncoder().encode(`entry ${i} of the proofs run`));
  const reference = referenceTree(leaves);

  it('gives the reference root of every size from both readers, in one read', async () => {
    for (const n of sizesToTry(prng(1))) {
      const { calls, readers } = readersOf(reference, n);
      for (const read of readers) expect(hex(await rootHashFrom(read, n))).toBe(hex(reference.root(n)));
      const expected = n === 0 ? 0 : 1;
      expect(calls).toEqual({ all: expected, stored: expected });
    }
  });

  it('gives the reference audit path from both readers in one read each; it verifies, and a changed proof, leaf or root does not', async () => {
    const random = prng(2);
    for (const n of sizesToTry(random).filter((size) => size > 0)) {
      const indexes = new Set([0, n - 1, random(n), random(n), random(n)]);
      for (const index of indexes) {
        const { calls, readers } = readersOf(reference, n);
        const expected = reference.inclusion(index, n);
        const claim = { index, size: n, leafHash: reference.leafHash(index), rootHash: reference.root(n) };
        for (const read of readers) {
          const proof = await proveInclusionFrom(read, index, n);
          expect(hexes(proof)).toEqual(hexes(expected));
          expect(codeOf(() => verifyInclusion({ ...claim, proof }))).toBe('verified');
          if (proof.length > 0) {
            const at = random(proof.length);
            const tampered = proof.map((hash, i) => (i === at ? flipped(hash, random(256)) : hash));
            expect(codeOf(() => verifyInclusion({ ...claim, proof: tampered }))).toBe('INCLUSION_FAILED');
          }
          expect(codeOf(() => verifyInclusion({ ...claim, leafHash: flipped(claim.leafHash, random(256)), proof }))).toBe('INCLUSION_FAILED');
          expect(codeOf(() => verifyInclusion({ ...claim, rootHash: flipped(claim.rootHash, random(256)), proof }))).toBe('INCLUSION_FAILED');
        }
        const reads = n === 1 ? 0 : 1;
        expect(calls).toEqual({ all: reads, stored: reads });
      }
    }
  });

  it('gives the reference consistency proof from both readers in one read each; it verifies, and a changed proof or root does not', async () => {
    const random = prng(3);
    for (const n of sizesToTry(random)) {
      const firsts = new Set([0, n, Math.max(0, n - 1), 1 + random(n), random(n + 1), random(n + 1)].filter((m) => m <= n));
      for (const m of firsts) {
        const { calls, readers } = readersOf(reference, n);
        const expected = reference.consistency(m, n);
        const claim = { firstSize: m, firstRoot: reference.root(m), secondSize: n, secondRoot: reference.root(n) };
        for (const read of readers) {
          const proof = await proveConsistencyFrom(read, m, n);
          expect(hexes(proof)).toEqual(hexes(expected));
          expect(codeOf(() => verifyConsistency({ ...claim, proof }))).toBe('verified');
          if (proof.length > 0) {
            const at = random(proof.length);
            const tampered = proof.map((hash, i) => (i === at ? flipped(hash, random(256)) : hash));
            expect(codeOf(() => verifyConsistency({ ...claim, proof: tampered }))).toBe('INCONSISTENT');
          }
          if (m > 0) {
            expect(codeOf(() => verifyConsistency({ ...claim, firstRoot: flipped(claim.firstRoot, random(256)), proof }))).toBe('INCONSISTENT');
          }
          if (n > 0) {
            const secondRoot = flipped(claim.secondRoot, random(256));
            expect(codeOf(() => verifyConsistency({ ...claim, secondRoot, proof }))).toBe(m === 0 ? 'verified' : 'INCONSISTENT');
          }
        }
        const reads = m === 0 || m === n ? 0 : 1;
        expect(calls).toEqual({ all: reads, stored: reads });
      }
    }
  });

  it('reads at most 8 stored rows a subtree at stride 4, and fewer than 300 a proof of a tree of 3000', async () => {
    const asked: number[] = [];
    const read = createStridedReader(async (refs) => {
      asked.push(refs.length);
      return refs.map(reference.subtree);
    }, STRIDE);
    for (let level = 0; level <= 11; level += 1) await read([{ level, index: 0 }]);
    expect(asked).toEqual([1, 2, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8]);
    asked.length = 0;
    await proveInclusionFrom(read, 1234, MAX);
    await proveConsistencyFrom(read, 1999, MAX);
    await rootHashFrom(read, MAX - 1);
    expect(asked).toHaveLength(3);
    for (const count of asked) expect(count).toBeLessThan(300);
  });
});

describe('proofs past 32 bits', () => {
  // A tree whose leaves all hash alike: a perfect subtree's hash depends only on its level, so any size can be read.
  const byLevel = [sha256(Uint8Array.of(0), Uint8Array.of(42))];
  for (let level = 1; level <= 52; level += 1) byLevel.push(sha256(Uint8Array.of(1), byLevel[level - 1]!, byLevel[level - 1]!));
  let size = 0;
  // Like the readers above, it refuses a ref past the tree: an index computed in 32 bits would land there or below 0.
  const read: SubtreeReader = async (refs) =>
    refs.map(({ level, index }) => {
      expect(Number.isSafeInteger(index) && index >= 0 && (index + 1) * 2 ** level <= size).toBe(true);
      return byLevel[level]!;
    });

  it('proves leaves and prefixes of trees of 2^33 to 2^50 leaves, and resumes a frontier there', async () => {
    const random = prng(4);
    for (size of [2 ** 33 + 5, 2 ** 40 + 3, 2 ** 50 - 1, 3 * 2 ** 41 + 12345]) {
      const rootHash = await rootHashFrom(read, size);
      for (const index of [0, size - 1, 2 ** 32, 2 ** 32 - 1, Math.floor(size / 3), size - 1 - random(1000)]) {
        const proof = await proveInclusionFrom(read, index, size);
        expect(codeOf(() => verifyInclusion({ index, size, leafHash: byLevel[0]!, rootHash, proof }))).toBe('verified');
      }
      for (const first of [1, 2 ** 32 + 1, size - 1, Math.floor(size / 2) + 7]) {
        const proof = await proveConsistencyFrom(read, first, size);
        const firstRoot = await rootHashFrom(read, first);
        expect(codeOf(() => verifyConsistency({ firstSize: first, firstRoot, secondSize: size, secondRoot: rootHash, proof }))).toBe('verified');
      }
      const frontier = createMerkleFrontier(frontierRefs(size).map((ref) => ({ ...ref, hash: byLevel[ref.level]! })));
      expect(hex(frontier.rootHash())).toBe(hex(rootHash));
      const completed = frontier.append(byLevel[0]!);
      size += 1;
      expect(hex(frontier.rootHash())).toBe(hex(await rootHashFrom(read, size)));
      for (const subtree of completed) expect((subtree.index + 1) * 2 ** subtree.level).toBe(size);
    }
  });
});

describe('refusals of the provers', () => {
  const leaves = Array.from({ length: 64 }, (_, i) => new TextEncoder().encode(`leaf ${i}`));
  const reference = referenceTree(leaves);
  const read: SubtreeReader = async (refs) => refs.map(reference.subtree);

  it('refuses indexes and sizes no proof can have with PROOF_MALFORMED', async () => {
    expect(await rejectionOf(proveInclusionFrom(read, 5, 5))).toBe('PROOF_MALFORMED');
    expect(await rejectionOf(proveInclusionFrom(read, 0, 0))).toBe('PROOF_MALFORMED');
    expect(await rejectionOf(proveInclusionFrom(read, -1, 5))).toBe('PROOF_MALFORMED');
    expect(await rejectionOf(proveInclusionFrom(read, 1.5, 5))).toBe('PROOF_MALFORMED');
    expect(await rejectionOf(proveInclusionFrom(read, 0, Number.MAX_SAFE_INTEGER + 1))).toBe('PROOF_MALFORMED');
    expect(await rejectionOf(proveConsistencyFrom(read, 9, 8))).toBe('PROOF_MALFORMED');
    expect(await rejectionOf(proveConsistencyFrom(read, -1, 8))).toBe('PROOF_MALFORMED');
    expect(await rejectionOf(proveConsistencyFrom(read, 0, Number.NaN))).toBe('PROOF_MALFORMED');
    expect(await rejectionOf(rootHashFrom(read, -3))).toBe('PROOF_MALFORMED');
    expect(await rejectionOf(proveInclusionFrom(read, 3, 5))).toBe('resolved');
  });

  it('refuses a reader that is not a function, or a stride that is not a whole number of levels, with OPTIONS_INVALID', async () => {
    const notAReader = 'select * from nodes' as unknown as SubtreeReader;
    expect(await rejectionOf(proveInclusionFrom(notAReader, 0, 1))).toBe('OPTIONS_INVALID');
    expect(await rejectionOf(proveConsistencyFrom(notAReader, 0, 0))).toBe('OPTIONS_INVALID');
    expect(await rejectionOf(rootHashFrom(notAReader, 0))).toBe('OPTIONS_INVALID');
    expect(codeOf(() => createStridedReader(read, 0))).toBe('OPTIONS_INVALID');
    expect(codeOf(() => createStridedReader(read, 2.5))).toBe('OPTIONS_INVALID');
    expect(codeOf(() => createStridedReader(notAReader, 4))).toBe('OPTIONS_INVALID');
  });

  it('refuses a reader that answers too few, too many or short hashes with PROOF_MALFORMED', async () => {
    const short: SubtreeReader = async (refs) => refs.slice(1).map(reference.subtree);
    const long: SubtreeReader = async (refs) => [...refs.map(reference.subtree), reference.root(1)];
    const truncated: SubtreeReader = async (refs) => refs.map((ref) => reference.subtree(ref).subarray(0, 31));
    for (const bad of [short, long, truncated]) {
      expect(await rejectionOf(proveInclusionFrom(bad, 3, 37))).toBe('PROOF_MALFORMED');
      expect(await rejectionOf(proveConsistencyFrom(bad, 5, 37))).toBe('PROOF_MALFORMED');
      expect(await rejectionOf(rootHashFrom(bad, 37))).toBe('PROOF_MALFORMED');
      expect(await rejectionOf(proveInclusionFrom(createStridedReader(bad, STRIDE), 3, 37))).toBe('PROOF_MALFORMED');
    }
  });

  it('passes a reader failure through untouched', async () => {
    const down = new Error('database is down');
    const failing: SubtreeReader = async () => {
      throw down;
    };
    await expect(proveInclusionFrom(failing, 3, 37)).rejects.toBe(down);
    await expect(proveInclusionFrom(createStridedReader(failing, STRIDE), 3, 37)).rejects.toBe(down);
  });
});

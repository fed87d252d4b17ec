import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMerkleTree } from './merkle-tree.ts';
import { emptyRootHash, hashLeaf } from './merkle-hash.ts';
import { verifyConsistency } from './verify-consistency.ts';
import { verifyInclusion } from './verify-inclusion.ts';
import type { LogProofErrorCode } from './log-proof-error.ts';

// The reference: RFC 9162 §2.1 read literally, over the leaves themselves,
// sharing no code with the tree or the verifiers beyond SHA-256.
const sha256 = (...parts: Uint8Array[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
};
const largestPowerOfTwoBelow = (n: number) => 2 ** Math.ceil(Math.log2(n) - 1);
function mth(d: readonly Uint8Array[]): Uint8Array {
  if (d.length === 0) return sha256();
  if (d.length === 1) return sha256(Uint8Array.of(0), d[0]!);
  const k = largestPowerOfTwoBelow(d.length);
  return sha256(Uint8Array.of(1), mth(d.slice(0, k)), mth(d.slice(k)));
}
function referencePath(m: number, d: readonly Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  const k = largestPowerOfTwoBelow(d.length);
  return m < k ? [...referencePath(m, d.slice(0, k)), mth(d.slice(k))] : [...referencePath(m - k, d.slice(k)), mth(d.slice(0, k))];
}
function referenceSubproof(m: number, d: readonly Uint8Array[], b: boolean): Uint8Array[] {
  if (m === d.length) return b ? [] : [mth(d)];
  const k = largestPowerOfTwoBelow(d.length);
  return m <= k
    ? [...referenceSubproof(m, d.slice(0, k), b), mth(d.slice(k))]
    : [...referenceSubproof(m - k, d.slice(k), false), mth(d.slice(0, k))];
}
const referenceProof = (m: number, d: readonly Uint8Array[]) => (m === 0 || m === d.length ? [] : referenceSubproof(m, d, true));

/** Distinct generated leaves: the index, then some bytes that make each run's tree its own. */
function leavesOf(size: number, salt: number): Uint8Array[] {
  return Array.from({ length: size }, (_, i) => new TextEncoder().encode(`entry ${i} of run ${salt}`));
}
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const fromHex = (text: string) => new Uint8Array(Buffer.from(text, 'hex'));
function flipped(bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice();
  copy[at % copy.length]! ^= 1 << (at % 8);
  return copy;
}
function codeOf(check: () => void): LogProofErrorCode | 'verified' {
  try {
    check();
    return 'verified';
  } catch (error) {
    return (error as { code: LogProofErrorCode }).code;
  }
}

describe('createMerkleTree against the RFC 9162 reference', () => {
  it('gives the reference root for every size and every prefix', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.nat(), (size, salt) => {
        const leaves = leavesOf(size, salt);
        const tree = createMerkleTree(leaves.map(hashLeaf));
        expect(tree.size).toBe(size);
        for (const n of [0, 1, size >> 1, size - 1, size].filter((n) => n >= 0 && n <= size)) {
          expect(hex(tree.rootHash(n))).toBe(hex(mth(leaves.slice(0, n))));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('computes the reference audit path, which verifies, and refuses a flipped byte, another index or another size', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }).chain((size) => fc.tuple(fc.constant(size), fc.nat(size - 1), fc.integer({ min: 1, max: 300 }), fc.nat(size - 1), fc.nat())),
        fc.nat(),
        ([size, index, otherSize, otherIndex, at], salt) => {
          const leaves = leavesOf(size, salt);
          const tree = createMerkleTree(leaves.map(hashLeaf));
          const proof = tree.inclusionProof(index);
          expect(proof.map(hex)).toEqual(referencePath(index, leaves).map(hex));
          const claim = { index, size, leafHash: hashLeaf(leaves[index]!), rootHash: mth(leaves), proof };
          expect(codeOf(() => verifyInclusion(claim))).toBe('verified');

          // Every byte of the claim is bound: the leaf, the root, each hash of the path.
          const parts = [claim.leafHash, claim.rootHash, ...proof];
          const part = at % parts.length;
          const tampered =
            part === 0 ? { ...claim, leafHash: flipped(claim.leafHash, at) }
            : part === 1 ? { ...claim, rootHash: flipped(claim.rootHash, at) }
            : { ...claim, proof: proof.map((p, i) => (i === part - 2 ? flipped(p, at) : p)) };
          expect(codeOf(() => verifyInclusion(tampered))).toBe('INCLUSION_FAILED');

          if (otherIndex !== index) expect(codeOf(() => verifyInclusion({ ...claim, index: otherIndex }))).toBe('INCLUSION_FAILED');
          // A size is only ever checked together with its own root (a checkpoint signs both).
          if (otherSize !== size) {
            const otherLeaves = leavesOf(Math.max(otherSize, index + 1), salt);
            expect(codeOf(() => verifyInclusion({ ...claim, size: otherSize, rootHash: mth(otherLeaves.slice(0, otherSize)) }))).toBe(
              'INCLUSION_FAILED',
            );
          }
          expect(codeOf(() => verifyInclusion({ ...claim, proof: proof.slice(0, -1) }))).toBe(proof.length === 0 ? 'verified' : 'INCLUSION_FAILED');
          expect(codeOf(() => verifyInclusion({ ...claim, proof: [...proof, claim.rootHash] }))).toBe('INCLUSION_FAILED');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('computes the reference consistency proof, which verifies, and refuses a flipped byte or other sizes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }).chain((second) => fc.tuple(fc.nat(second), fc.constant(second), fc.integer({ min: 1, max: 300 }), fc.nat())),
        fc.nat(),
        ([first, second, otherFirst, at], salt) => {
          const leaves = leavesOf(second, salt);
          const tree = createMerkleTree(leaves.map(hashLeaf));
          const proof = tree.consistencyProof(first, second);
          expect(proof.map(hex)).toEqual(referenceProof(first, leaves).map(hex));
          const claim = { firstSize: first, firstRoot: mth(leaves.slice(0, first)), secondSize: second, secondRoot: mth(leaves), proof };
          expect(codeOf(() => verifyConsistency(claim))).toBe('verified');

          // From the empty tree nothing binds the second root: every tree extends the empty one.
          const parts = [claim.firstRoot, claim.secondRoot, ...proof];
          const part = first === 0 ? 0 : at % parts.length;
          const tampered =
            part === 0 ? { ...claim, firstRoot: flipped(claim.firstRoot, at) }
            : part === 1 ? { ...claim, secondRoot: flipped(claim.secondRoot, at) }
            : { ...claim, proof: proof.map((p, i) => (i === part - 2 ? flipped(p, at) : p)) };
          expect(codeOf(() => verifyConsistency(tampered))).toBe('INCONSISTENT');

          // Another first size is refused, unless its own proof happens to be this one (0 → n and n → n are both empty).
          const sameProof = otherFirst <= second && referenceProof(otherFirst, leaves).map(hex).join() === proof.map(hex).join();
          if (otherFirst !== first && otherFirst <= second && !sameProof) {
            expect(codeOf(() => verifyConsistency({ ...claim, firstSize: otherFirst, firstRoot: mth(leaves.slice(0, otherFirst)) }))).toBe('INCONSISTENT');
          }
          if (first > 0 && first < second) {
            const bigger = leavesOf(second + 1, salt);
            expect(codeOf(() => verifyConsistency({ ...claim, secondSize: second + 1, secondRoot: mth(bigger) }))).toBe('INCONSISTENT');
            expect(codeOf(() => verifyConsistency({ ...claim, proof: proof.slice(1) }))).toBe('INCONSISTENT');
            expect(codeOf(() => verifyConsistency({ ...claim, proof: [...proof, claim.secondRoot] }))).toBe('INCONSISTENT');
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('shows a rewritten entry: the old tree is not a prefix of the new one', () => {
    const leaves = leavesOf(50, 7);
    const before = createMerkleTree(leaves.slice(0, 30).map(hashLeaf));
    const rewritten = [...leaves];
    rewritten[12] = new TextEncoder().encode('a forged entry');
    const after = createMerkleTree(rewritten.map(hashLeaf));
    const claim = { firstSize: 30, firstRoot: before.rootHash(), secondSize: 50, secondRoot: after.rootHash(), proof: after.consistencyProof(30) };
    expect(codeOf(() => verifyConsistency(claim))).toBe('INCONSISTENT');
  });

  it('refuses sizes and indexes no proof can have', () => {
    const tree = createMerkleTree(leavesOf(5, 1).map(hashLeaf));
    expect(codeOf(() => tree.inclusionProof(5))).toBe('PROOF_MALFORMED');
    expect(codeOf(() => tree.inclusionProof(0, 6))).toBe('PROOF_MALFORMED');
    expect(codeOf(() => tree.consistencyProof(4, 3))).toBe('PROOF_MALFORMED');
    expect(codeOf(() => tree.rootHash(-1))).toBe('PROOF_MALFORMED');
    const root = tree.rootHash();
    expect(codeOf(() => verifyInclusion({ index: 1.5, size: 5, leafHash: root, rootHash: root, proof: [] }))).toBe('PROOF_MALFORMED');
    expect(codeOf(() => verifyInclusion({ index: 5, size: 5, leafHash: root, rootHash: root, proof: [] }))).toBe('INCLUSION_FAILED');
    expect(codeOf(() => verifyInclusion({ index: 0, size: 5, leafHash: root.slice(1), rootHash: root, proof: [] }))).toBe('PROOF_MALFORMED');
    expect(codeOf(() => verifyConsistency({ firstSize: 6, firstRoot: root, secondSize: 5, secondRoot: root, proof: [] }))).toBe('PROOF_MALFORMED');
    expect(codeOf(() => verifyConsistency({ firstSize: 0, firstRoot: emptyRootHash(), secondSize: 5, secondRoot: root, proof: [] }))).toBe('verified');
    expect(codeOf(() => verifyConsistency({ firstSize: 0, firstRoot: root, secondSize: 5, secondRoot: root, proof: [] }))).toBe('INCONSISTENT');
    expect(codeOf(() => verifyConsistency({ firstSize: 5, firstRoot: root, secondSize: 5, secondRoot: root, proof: [] }))).toBe('verified');
    expect(codeOf(() => tree.append(root.slice(1)))).toBe('PROOF_MALFORMED');
  });

  it('serves proofs from a tree of 100,000 leaves that verify', () => {
    const leaves = leavesOf(100_000, 3);
    const tree = createMerkleTree();
    for (const leaf of leaves) tree.append(hashLeaf(leaf));
    const root = tree.rootHash();
    for (const index of [0, 1, 65_535, 65_536, 99_998, 99_999]) {
      verifyInclusion({ index, size: tree.size, leafHash: hashLeaf(leaves[index]!), rootHash: root, proof: tree.inclusionProof(index) });
    }
    for (const first of [1, 4096, 65_536, 77_777, 99_999]) {
      verifyConsistency({ firstSize: first, firstRoot: tree.rootHash(first), secondSize: tree.size, secondRoot: root, proof: tree.consistencyProof(first) });
    }
    expect(hex(tree.rootHash(1000))).toBe(hex(mth(leaves.slice(0, 1000))));
  });
});

describe('RFC 6962 / 9162 known answers (the eight-leaf tree of the CT test suites)', () => {
  const leaves = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(fromHex);
  const tree = createMerkleTree(leaves.map(hashLeaf));
  const roots = [
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
    '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
    'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
    '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
  ];

  it('has the published root for every size from 0 to 8', () => {
    expect(roots.map((_, n) => hex(tree.rootHash(n)))).toEqual(roots);
  });

  it.each([
    [0, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
    [5, 8, ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
    [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
    [1, 5, ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
  ])('gives the published audit path of leaf %i in the tree of %i', (index, size, path) => {
    expect(tree.inclusionProof(index, size).map(hex)).toEqual(path);
    verifyInclusion({ index, size, leafHash: hashLeaf(leaves[index]!), rootHash: fromHex(roots[size]!), proof: path.map(fromHex) });
  });

  it.each([
    [1, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
    [6, 8, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
    [2, 5, ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
  ])('gives the published consistency proof from %i to %i', (first, second, proof) => {
    expect(tree.consistencyProof(first, second).map(hex)).toEqual(proof);
    verifyConsistency({ firstSize: first, firstRoot: fromHex(roots[first]!), secondSize: second, secondRoot: fromHex(roots[second]!), proof: proof.map(fromHex) });
  });
});

import { describe, expect, it } from 'vitest';
import { createMerkleFrontier, loadMerkleFrontier } from './merkle-frontier.ts';
import { foldPerfect, frontierRefs, rootFromSubtrees, storedRefsOf, type Subtree, type SubtreeRef } from './subtree.ts';
import type { LogProofErrorCode } from './log-proof-error.ts';
import { prng, referenceTree, sha256 } from '../test/reference-tree.ts';
const leavesOf = (size: number, salt: number) => Array.from({ length: size }, (_, i) => new TextEncoder().encode(`entry ${i} of run ${salt}`));
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const trailingZeros = (n: number) => {
  let z = 0;
  while (n % 2 === 0) {
    n /= 2;
    z += 1;
  }
  return z;
};
function codeOf(act: () => unknown): LogProofErrorCode | 'accepted' {
  try {
    act();
    return 'accepted';
  } catch (error) {
    return (error as { code: LogProofErrorCode }).code;
  }
}
const MAX = 3000;

describe('createMerkleFrontier against the RFC 9162 reference', () => {
  const leaves = leavesOf(MAX, 1);
  const reference = referenceTree(leaves);

  it('gives the reference root, the perfect decomposition and the completed subtrees at every size from 0 to 3000', () => {
    const frontier = createMerkleFrontier();
    expect(hex(frontier.rootHash())).toBe(hex(reference.mth(0, 0)));
    expect(frontier.subtrees).toEqual([]);
    for (let n = 1; n <= MAX; n += 1) {
      const completed = frontier.append(sha256(Uint8Array.of(0), leaves[n - 1]!));
      expect(frontier.size).toBe(n);
      expect(hex(frontier.rootHash())).toBe(hex(reference.mth(0, n)));
      // Leaf n − 1 completes the aligned subtrees ending at n: levels 1 … trailing zeros of n, lowest first.
      const expected = Array.from({ length: trailingZeros(n) }, (_, i) => ({ level: i + 1, index: n / 2 ** (i + 1) - 1 }));
      expect(completed.map(({ level, index }) => ({ level, index }))).toEqual(expected);
      for (const subtree of completed) expect(hex(subtree.hash)).toBe(hex(reference.subtree(subtree)));
      const refs = frontierRefs(n);
      expect(frontier.subtrees.map(({ level, index }) => ({ level, index }))).toEqual(refs);
      expect(frontier.subtrees.map((s) => hex(s.hash))).toEqual(refs.map((ref) => hex(reference.subtree(ref))));
      expect(hex(rootFromSubtrees(frontier.subtrees.map((s) => s.hash)))).toBe(hex(reference.mth(0, n)));
    }
  });

  it('resumes from frontierRefs(n) with their hashes at hundreds of sizes and gives the roots of never stopping', async () => {
    const random = prng(12);
    const sizes = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 1023, 1024, 1025, 2047, 2048, 2049];
    while (sizes.length < 300) sizes.push(random(MAX - 64));
    for (const n of sizes) {
      const refs = frontierRefs(n);
      const restored = createMerkleFrontier(refs.map((ref) => ({ ...ref, hash: reference.subtree(ref) })));
      let calls = 0;
      const loaded = await loadMerkleFrontier(async (asked) => {
        calls += 1;
        expect(asked).toEqual(refs);
        return asked.map(reference.subtree);
      }, n);
      expect(calls).toBe(n === 0 ? 0 : 1);
      for (const frontier of [restored, loaded]) {
        expect(frontier.size).toBe(n);
        expect(hex(frontier.rootHash())).toBe(hex(reference.mth(0, n)));
        const more = 1 + random(64);
        for (let m = n + 1; m <= n + more; m += 1) {
          for (const subtree of frontier.append(sha256(Uint8Array.of(0), leaves[m - 1]!))) {
            expect(hex(subtree.hash)).toBe(hex(reference.subtree(subtree)));
          }
          expect(hex(frontier.rootHash())).toBe(hex(reference.mth(0, m)));
        }
      }
    }
  });

  it('hands out copies: changing a returned hash changes nothing inside', () => {
    const frontier = createMerkleFrontier();
    const leaf = sha256(Uint8Array.of(0), leaves[0]!);
    frontier.append(leaf);
    const [completed] = frontier.append(sha256(Uint8Array.of(0), leaves[1]!));
    leaf.fill(0);
    completed!.hash.fill(0);
    frontier.subtrees[0]!.hash.fill(0);
    frontier.rootHash().fill(0);
    expect(hex(frontier.rootHash())).toBe(hex(reference.mth(0, 2)));
  });

  it('refuses a start that is not a perfect decomposition, and leaf hashes of the wrong length', () => {
    const at = (ref: SubtreeRef): Subtree => ({ ...ref, hash: reference.subtree(ref) });
    expect(codeOf(() => createMerkleFrontier([at({ level: 2, index: 1 })]))).toBe('OPTIONS_INVALID');
    expect(codeOf(() => createMerkleFrontier([at({ level: 0, index: 0 }), at({ level: 1, index: 0 })]))).toBe('OPTIONS_INVALID');
    expect(codeOf(() => createMerkleFrontier([at({ level: 1, index: 0 }), at({ level: 1, index: 1 })]))).toBe('OPTIONS_INVALID');
    expect(codeOf(() => createMerkleFrontier([{ level: 0, index: 0, hash: new Uint8Array(31) }]))).toBe('PROOF_MALFORMED');
    expect(codeOf(() => createMerkleFrontier([{ level: -1, index: 0, hash: new Uint8Array(32) }]))).toBe('PROOF_MALFORMED');
    expect(codeOf(() => createMerkleFrontier([at({ level: 2, index: 0 }), at({ level: 0, index: 4 })]))).toBe('accepted');
    expect(codeOf(() => createMerkleFrontier().append(new Uint8Array(33)))).toBe('PROOF_MALFORMED');
  });
});

describe('subtree arithmetic', () => {
  it('decomposes a size into its perfect subtrees, largest first', () => {
    expect(frontierRefs(0)).toEqual([]);
    expect(frontierRefs(1)).toEqual([{ level: 0, index: 0 }]);
    expect(frontierRefs(13)).toEqual([
      { level: 3, index: 0 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    expect(frontierRefs(2 ** 40 + 3)).toEqual([
      { level: 40, index: 0 },
      { level: 1, index: 2 ** 39 },
      { level: 0, index: 2 ** 40 + 2 },
    ]);
    expect(codeOf(() => frontierRefs(-1))).toBe('PROOF_MALFORMED');
    expect(codeOf(() => frontierRefs(1.5))).toBe('PROOF_MALFORMED');
  });

  it('maps a ref to the stored refs below it and folds them back to the reference hash', () => {
    const reference = referenceTree(leavesOf(4096, 2));
    expect(storedRefsOf({ level: 8, index: 3 }, 4)).toEqual([{ level: 8, index: 3 }]);
    expect(storedRefsOf({ level: 0, index: 9 }, 4)).toEqual([{ level: 0, index: 9 }]);
    expect(storedRefsOf({ level: 6, index: 3 }, 4)).toEqual([12, 13, 14, 15].map((index) => ({ level: 4, index })));
    for (let level = 0; level <= 12; level += 1) {
      for (const stride of [1, 2, 3, 4, 5]) {
        const index = (2 ** (12 - level) - 1) >> 1;
        const stored = storedRefsOf({ level, index }, stride);
        expect(stored.length).toBe(2 ** (level % stride));
        expect(stored.every((ref) => ref.level % stride === 0)).toBe(true);
        expect(hex(foldPerfect(stored.map(reference.subtree)))).toBe(hex(reference.subtree({ level, index })));
      }
    }
    expect(codeOf(() => storedRefsOf({ level: 1, index: 0 }, 0))).toBe('OPTIONS_INVALID');
    expect(codeOf(() => storedRefsOf({ level: 1, index: -2 }, 4))).toBe('PROOF_MALFORMED');
  });

  it('folds only a power of two of 32-byte hashes, and folds the empty decomposition to the empty root', () => {
    const h = sha256(Uint8Array.of(7));
    expect(codeOf(() => foldPerfect([]))).toBe('PROOF_MALFORMED');
    expect(codeOf(() => foldPerfect([h, h, h]))).toBe('PROOF_MALFORMED');
    expect(codeOf(() => foldPerfect([h, new Uint8Array(16)]))).toBe('PROOF_MALFORMED');
    expect(hex(foldPerfect([h]))).toBe(hex(h));
    expect(hex(rootFromSubtrees([]))).toBe(hex(sha256()));
    expect(hex(rootFromSubtrees([h, h]))).toBe(hex(sha256(Uint8Array.of(1), h, h)));
  });
});

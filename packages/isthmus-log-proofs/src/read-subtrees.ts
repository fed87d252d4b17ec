import { OptionsInvalid, ProofMalformed } from './log-proof-error.ts';
import { checkSubtreeHashes, type SubtreeRef, type SubtreeReader } from './subtree.ts';

/** A ref's key for deduplication. */
const keyOf = (ref: SubtreeRef): string => `${ref.level}:${ref.index}`;

/**
 * Reads `refs` in one call of `read`, each distinct ref once (and no call when
 * there are none), checks the answer (one 32-byte hash per ref asked, else
 * `ProofMalformed`), and returns a lookup of the hash of any of those refs.
 */
export async function readSubtrees(
  read: SubtreeReader,
  refs: readonly SubtreeRef[],
): Promise<(ref: SubtreeRef) => Uint8Array> {
  if (typeof read !== 'function') throw new OptionsInvalid('a subtree reader is a function');
  const positions = new Map<string, number>();
  const unique: SubtreeRef[] = [];
  for (const ref of refs) {
    const key = keyOf(ref);
    if (positions.has(key)) continue;
    positions.set(key, unique.length);
    unique.push({ level: ref.level, index: ref.index });
  }
  const hashes = unique.length === 0 ? [] : await read(unique);
  if (!Array.isArray(hashes) || hashes.length !== unique.length) {
    const answered = Array.isArray(hashes) ? hashes.length : 'no list of';
    throw new ProofMalformed(`the subtree reader answered ${answered} hashes for ${unique.length} subtrees`);
  }
  checkSubtreeHashes('the subtree reader', hashes);
  return (ref) => {
    const at = positions.get(keyOf(ref));
    if (at === undefined) throw new ProofMalformed(`subtree ${keyOf(ref)} was not read`);
    return hashes[at]!;
  };
}

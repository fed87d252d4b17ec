import { describe, expect, it } from 'vitest';
import { formatCheckpoint, parseCheckpoint, previousCheckpointOf, signCheckpoint, verifyCheckpoint, verifySuccession, type Checkpoint } from './checkpoint.ts';
import { hashLeaf } from './merkle-hash.ts';
import { createMerkleTree } from './merkle-tree.ts';
import { generateNoteKey, parseSignerKey, parseVerifierKey } from './note-key.ts';
import { cosignNote, signNote } from './signed-note.ts';
import { verifyInclusion } from './verify-inclusion.ts';
import type { LogProofErrorCode } from './log-proof-error.ts';

function codeOf(check: () => unknown): LogProofErrorCode | 'ok' {
  try {
    check();
    return 'ok';
  } catch (error) {
    return (error as { code: LogProofErrorCode }).code;
  }
}

const origin = 'isthmus.city.example/log/chain-7';
const keys = (name: string) => {
  const generated = generateNoteKey(name);
  return { signer: parseSignerKey(generated.signerKey), verifier: parseVerifierKey(generated.verifierKey) };
};
const log = keys(origin);
const witnesses = ['audit-office.city.example', 'hrss.city.example', 'market.city.example'].map(keys);
const entries = Array.from({ length: 40 }, (_, i) => new TextEncoder().encode(`{"seq":${i},"subject":"generated-${i}"}`));
const tree = createMerkleTree(entries.map(hashLeaf));

/** Checkpoints at the given sizes, each naming the one before, signed by the log. */
function chain(sizes: readonly number[]): Checkpoint[] {
  const out: Checkpoint[] = [];
  for (const size of sizes) {
    const previous = out.at(-1);
    const body = { origin, size, rootHash: tree.rootHash(size), ...(previous === undefined ? {} : { previous: previousCheckpointOf(previous) }) };
    out.push(parseCheckpoint(formatCheckpoint(body)));
  }
  return out;
}

describe('checkpoints', () => {
  it('round-trips the C2SP body with the previous line and other extensions', () => {
    const [first, second] = chain([10, 25]) as [Checkpoint, Checkpoint];
    expect(first.text).toBe(`${origin}\n10\n${Buffer.from(tree.rootHash(10)).toString('base64')}\n`);
    const text = formatCheckpoint({ ...second, extensions: ['time 1767225600'] });
    expect(text.split('\n')[3]).toMatch(/^previous 10 [A-Za-z0-9+/]{43}=$/);
    const parsed = parseCheckpoint(text);
    expect(parsed.previous?.size).toBe(10);
    expect(parsed.extensions).toEqual(['time 1767225600']);
    expect(formatCheckpoint(parsed)).toBe(text);
  });

  it.each([
    ['a size with a leading zero', `${origin}\n010\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n`],
    ['a short root', `${origin}\n10\nAAAA\n`],
    ['no size', `${origin}\n`],
    ['two previous lines', `${origin}\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nprevious 0 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nprevious 0 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n`],
    ['a previous line without a hash', `${origin}\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nprevious 0\n`],
  ])('refuses a body with %s', (_, text) => {
    expect(codeOf(() => parseCheckpoint(text))).toBe('CHECKPOINT_MALFORMED');
  });

  it('counts only once the quorum of named witnesses has cosigned', () => {
    const [a, b, c] = witnesses as [ReturnType<typeof keys>, ReturnType<typeof keys>, ReturnType<typeof keys>];
    const signed = signCheckpoint(chain([12])[0]!, log.signer);
    const policy = { origin, logKeys: [log.verifier], witnesses: [a.verifier, b.verifier, c.verifier], quorum: 2 };
    expect(codeOf(() => verifyCheckpoint(signed, policy))).toBe('COSIGNATURES_INSUFFICIENT');
    const once = cosignNote(signed, [a.signer]);
    try {
      verifyCheckpoint(once, policy);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'COSIGNATURES_INSUFFICIENT', required: 2, cosignedBy: ['audit-office.city.example'] });
    }
    // The same witness twice is still one witness.
    expect(codeOf(() => verifyCheckpoint(cosignNote(once, [a.signer]), policy))).toBe('COSIGNATURES_INSUFFICIENT');
    // A witness not named in the policy does not count.
    const stranger = keys('stranger.example');
    expect(codeOf(() => verifyCheckpoint(cosignNote(once, [stranger.signer]), policy))).toBe('COSIGNATURES_INSUFFICIENT');
    const twice = cosignNote(once, [c.signer]);
    const verified = verifyCheckpoint(twice, policy);
    expect(verified.cosignedBy).toEqual(['audit-office.city.example', 'market.city.example']);
    expect(verified.size).toBe(12);
    // By default every named witness must cosign.
    expect(codeOf(() => verifyCheckpoint(twice, { ...policy, quorum: undefined }))).toBe('COSIGNATURES_INSUFFICIENT');
    expect(verifyCheckpoint(cosignNote(twice, [b.signer]), { ...policy, quorum: undefined }).cosignedBy).toHaveLength(3);
    // The log cannot be its own witness.
    const selfWitnessed = { origin, logKeys: [log.verifier], witnesses: [log.verifier, a.verifier], quorum: 2 };
    expect(codeOf(() => verifyCheckpoint(once, selfWitnessed))).toBe('COSIGNATURES_INSUFFICIENT');
    expect(codeOf(() => verifyCheckpoint(once, { ...policy, quorum: 4 }))).toBe('OPTIONS_INVALID');
  });

  it('refuses a forged cosignature, an edited body, a foreign log key and another log\'s checkpoint', () => {
    const [a] = witnesses as [ReturnType<typeof keys>];
    const body = chain([12])[0]!;
    const cosigned = cosignNote(signCheckpoint(body, log.signer), [a.signer]);
    const policy = { origin, logKeys: [log.verifier], witnesses: [a.verifier], quorum: 1 };
    expect(verifyCheckpoint(cosigned, policy).cosignedBy).toEqual(['audit-office.city.example']);

    // The entries count edited after signing.
    expect(codeOf(() => verifyCheckpoint(cosigned.replace(`${origin}\n12\n`, `${origin}\n11\n`), policy))).toBe('SIGNATURE_INVALID');
    // The witness's line copied from a checkpoint it cosigned onto one it did not.
    const otherSigned = signCheckpoint(chain([13])[0]!, log.signer);
    const witnessLine = cosigned.trimEnd().split('\n').at(-1)!;
    expect(codeOf(() => verifyCheckpoint(`${otherSigned}${witnessLine}\n`, policy))).toBe('SIGNATURE_INVALID');
    // Re-signed by a key the database's owner added: not one of the log's published keys.
    const foreign = keys(origin);
    expect(codeOf(() => verifyCheckpoint(cosignNote(signCheckpoint(body, foreign.signer), [a.signer]), policy))).toBe('KEY_UNKNOWN');
    // A genuine checkpoint of another chain.
    const elsewhere = signNote(formatCheckpoint({ ...body, origin: 'isthmus.city.example/log/chain-8' }), [log.signer]);
    expect(codeOf(() => verifyCheckpoint(elsewhere, policy))).toBe('ORIGIN_MISMATCH');
    expect(codeOf(() => verifyCheckpoint('not a note', policy))).toBe('NOTE_MALFORMED');
    // A rotated-out key still verifies the checkpoints it signed, when listed among the log's keys.
    const old = keys(origin);
    const oldSigned = cosignNote(signCheckpoint(body, old.signer), [a.signer]);
    expect(verifyCheckpoint(oldSigned, { ...policy, logKeys: [log.verifier, old.verifier] }).size).toBe(12);
  });
});

describe('the sequence of checkpoints', () => {
  const sizes = [5, 12, 12, 30, 40];
  const checkpoints = chain(sizes);
  const proof = (a: Checkpoint, b: Checkpoint) => tree.consistencyProof(a.size, b.size);

  it('accepts a chain whose each checkpoint names the one before and extends its tree', () => {
    verifySuccession(undefined, checkpoints[0]!, []);
    for (let i = 1; i < checkpoints.length; i += 1) verifySuccession(checkpoints[i - 1], checkpoints[i]!, proof(checkpoints[i - 1]!, checkpoints[i]!));
  });

  it('breaks where a checkpoint was deleted, and where the first one is missing', () => {
    const [c5, c12, , c30] = checkpoints as [Checkpoint, Checkpoint, Checkpoint, Checkpoint];
    expect(codeOf(() => verifySuccession(c12, c30, proof(c12, c30)))).toBe('PREVIOUS_MISMATCH');
    expect(codeOf(() => verifySuccession(undefined, c12, []))).toBe('PREVIOUS_MISMATCH');
    expect(codeOf(() => verifySuccession(c5, parseCheckpoint(formatCheckpoint({ origin, size: 12, rootHash: c12.rootHash })), proof(c5, c12)))).toBe(
      'PREVIOUS_MISMATCH',
    );
  });

  it('refuses a size that went backwards, another log, and a rewritten history', () => {
    const [, c12, , c30] = checkpoints as [Checkpoint, Checkpoint, Checkpoint, Checkpoint];
    const shrunk = parseCheckpoint(formatCheckpoint({ origin, size: 8, rootHash: tree.rootHash(8), previous: previousCheckpointOf(c30) }));
    expect(codeOf(() => verifySuccession(c30, shrunk, []))).toBe('SIZE_WENT_BACKWARDS');
    const elsewhere = parseCheckpoint(formatCheckpoint({ ...c30, origin: 'isthmus.city.example/log/chain-8', previous: previousCheckpointOf(c12) }));
    expect(codeOf(() => verifySuccession(c12, elsewhere, proof(c12, c30)))).toBe('ORIGIN_MISMATCH');
    // Entry 7 rewritten and the tree rebuilt: the next checkpoint names c12 correctly but its tree does not extend c12's.
    const rewritten = entries.map((entry, i) => (i === 7 ? new TextEncoder().encode('{"seq":7,"subject":"forged"}') : entry));
    const forgedTree = createMerkleTree(rewritten.map(hashLeaf));
    const forged = parseCheckpoint(formatCheckpoint({ origin, size: 30, rootHash: forgedTree.rootHash(30), previous: previousCheckpointOf(c12) }));
    expect(codeOf(() => verifySuccession(c12, forged, forgedTree.consistencyProof(12, 30)))).toBe('INCONSISTENT');
  });
});

describe('a citizen\'s receipt', () => {
  it('verifies with the entry, its index, the audit path, the cosigned checkpoint and the public keys, and nothing else', () => {
    const [a] = witnesses as [ReturnType<typeof keys>];
    const body = chain([40])[0]!;
    const receipt = {
      entry: entries[23]!,
      index: 23,
      proof: tree.inclusionProof(23, 40),
      checkpoint: cosignNote(signCheckpoint(body, log.signer), [a.signer]),
    };
    const checkpoint = verifyCheckpoint(receipt.checkpoint, {
      origin,
      logKeys: [parseVerifierKey(log.verifier.verifierKey)],
      witnesses: [parseVerifierKey(a.verifier.verifierKey)],
      quorum: 1,
    });
    const claim = { index: receipt.index, size: checkpoint.size, leafHash: hashLeaf(receipt.entry), rootHash: checkpoint.rootHash, proof: receipt.proof };
    expect(codeOf(() => verifyInclusion(claim))).toBe('ok');
    expect(codeOf(() => verifyInclusion({ ...claim, leafHash: hashLeaf(entries[24]!) }))).toBe('INCLUSION_FAILED');
  });
});

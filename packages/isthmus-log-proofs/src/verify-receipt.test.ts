import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { previousCheckpointOf, signCheckpoint } from './checkpoint.ts';
import type { LogProofErrorCode } from './log-proof-error.ts';
import { hashLeaf } from './merkle-hash.ts';
import { createMerkleTree } from './merkle-tree.ts';
import { generateNoteKey, parseSignerKey } from './note-key.ts';
import { cosignNote } from './signed-note.ts';
import { verifyReceipt, type LogReceipt } from './verify-receipt.ts';

const logName = 'isthmus.city.example/access-log';
const origin = `${logName}/chain-7`;
const logKey = generateNoteKey(logName);
const auditOffice = generateNoteKey('audit-office.city.example');
const bureau = generateNoteKey('hrss.city.example');
// Entry hashes as the log writes them: hex SHA-256 of each entry's canonical content.
const entryHashes = Array.from({ length: 37 }, (_, i) => createHash('sha256').update(`entry ${i}`).digest('hex'));
const tree = createMerkleTree(entryHashes.map((hash) => hashLeaf(Buffer.from(hash, 'hex'))));
const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

function checkpointAt(size: number, cosigners: readonly string[]): string {
  const earlier = signCheckpoint({ origin, size: 10, rootHash: tree.rootHash(10) }, parseSignerKey(logKey.signerKey));
  const previous = previousCheckpointOf({ size: 10, text: earlier.slice(0, earlier.indexOf('\n\n') + 1) });
  const note = signCheckpoint({ origin, size, rootHash: tree.rootHash(size), previous, extensions: ['time 2026-12-04T18:00:00.000Z'] }, parseSignerKey(logKey.signerKey));
  return cosignNote(note, cosigners.map(parseSignerKey));
}

function receiptOf(index: number, size = 30, cosigners = [auditOffice.signerKey]): LogReceipt {
  return {
    leafIndex: index,
    treeSize: size,
    entryHash: entryHashes[index]!,
    inclusionProof: tree.inclusionProof(index, size).map(base64),
    checkpoint: checkpointAt(size, cosigners),
    witnesses: ['audit-office.city.example'],
    origin,
  };
}

/** A receipt as a citizen would hold it: JSON, written out and read back. */
const asDownloaded = (receipt: LogReceipt): unknown => JSON.parse(JSON.stringify(receipt));
const policy = { logKeys: [logKey.verifierKey], witnesses: [auditOffice.verifierKey], quorum: 1, logName };

function codeOf(check: () => unknown): LogProofErrorCode | 'ok' {
  try {
    check();
    return 'ok';
  } catch (error) {
    return (error as { code: LogProofErrorCode }).code;
  }
}

describe('verifyReceipt', () => {
  it('proves every entry of the tree a cosigned checkpoint signs, from the JSON alone and the published keys', () => {
    for (let index = 0; index < 30; index += 1) {
      const proved = verifyReceipt(asDownloaded(receiptOf(index)), policy);
      expect(proved).toMatchObject({ origin, leafIndex: index, treeSize: 30, entryHash: entryHashes[index], cosignedBy: ['audit-office.city.example'] });
      expect(base64(proved.rootHash)).toBe(base64(tree.rootHash(30)));
    }
  });

  it('counts every named witness towards the quorum, and by default wants all of them', () => {
    const receipt = { ...receiptOf(3, 30, [auditOffice.signerKey, bureau.signerKey]), witnesses: ['audit-office.city.example', 'hrss.city.example'] };
    expect(verifyReceipt(receipt, { logKeys: [logKey.verifierKey], witnesses: [auditOffice.verifierKey, bureau.verifierKey] }).cosignedBy).toEqual(['audit-office.city.example', 'hrss.city.example']);
    expect(codeOf(() => verifyReceipt(receiptOf(3), { logKeys: [logKey.verifierKey], witnesses: [auditOffice.verifierKey, bureau.verifierKey] }))).toBe('COSIGNATURES_INSUFFICIENT');
  });

  it.each<[string, (receipt: LogReceipt) => unknown, LogProofErrorCode]>([
    ['another entry\'s hash', (r) => ({ ...r, entryHash: entryHashes[6] }), 'INCLUSION_FAILED'],
    ['a moved entry (another index)', (r) => ({ ...r, leafIndex: 6 }), 'INCLUSION_FAILED'],
    ['a tree size its checkpoint does not sign', (r) => ({ ...r, treeSize: 31 }), 'INCLUSION_FAILED'],
    ['a changed audit path', (r) => ({ ...r, inclusionProof: [base64(tree.rootHash(3)), ...r.inclusionProof.slice(1)] }), 'INCLUSION_FAILED'],
    ['a shortened audit path', (r) => ({ ...r, inclusionProof: r.inclusionProof.slice(1) }), 'INCLUSION_FAILED'],
    ['a checkpoint of another chain', (r) => ({ ...r, origin: `${logName}/chain-8` }), 'ORIGIN_MISMATCH'],
    ['a chain of another log', (r) => ({ ...r, origin: `isthmus.elsewhere/access-log/chain-7` }), 'ORIGIN_MISMATCH'],
    ['a checkpoint no witness cosigned', (r) => ({ ...r, checkpoint: checkpointAt(30, []) }), 'COSIGNATURES_INSUFFICIENT'],
    ['a witness named that did not cosign', (r) => ({ ...r, witnesses: ['audit-office.city.example', 'hrss.city.example'] }), 'COSIGNATURES_INSUFFICIENT'],
    ['a checkpoint re-signed with another log key', (r) => ({ ...r, checkpoint: cosignNote(signCheckpoint({ origin, size: 30, rootHash: tree.rootHash(30) }, parseSignerKey(generateNoteKey(logName).signerKey)), [parseSignerKey(auditOffice.signerKey)]) }), 'KEY_UNKNOWN'],
    ['a changed root under the old signatures', (r) => ({ ...r, checkpoint: (r.checkpoint as string).replace(base64(tree.rootHash(30)), base64(tree.rootHash(29))) }), 'SIGNATURE_INVALID'],
    ['an entry hash that is no hash', (r) => ({ ...r, entryHash: 'abc' }), 'PROOF_MALFORMED'],
    ['a proof hash that is not base64', (r) => ({ ...r, inclusionProof: ['not base64!'] }), 'PROOF_MALFORMED'],
    ['no checkpoint', (r) => ({ ...r, checkpoint: undefined }), 'PROOF_MALFORMED'],
    ['a string instead of an object', () => 'receipt', 'PROOF_MALFORMED'],
  ])('refuses a receipt with %s', (_, change, code) => {
    expect(codeOf(() => verifyReceipt(change(receiptOf(5)), policy))).toBe(code);
  });
});

import { decodeBase64 } from './base64.ts';
import { verifyCheckpoint } from './checkpoint.ts';
import { CosignaturesInsufficient, InclusionFailed, OriginMismatch, ProofMalformed } from './log-proof-error.ts';
import { hashLeaf, HASH_SIZE } from './merkle-hash.ts';
import { parseVerifierKey, type NoteVerifier } from './note-key.ts';
import { verifyInclusion } from './verify-inclusion.ts';

/**
 * A receipt for one access-log entry, as the gateway's citizen and data-officer
 * views hand it out (JSON): the entry is leaf `leafIndex` of the tree of
 * `treeSize` leaves whose root the cosigned `checkpoint` signs.
 */
export interface LogReceipt {
  /** The entry's place in its chain's tree: `seq - 1`. */
  readonly leafIndex: number;
  /** The size of the tree the checkpoint signs. */
  readonly treeSize: number;
  /** The entry's hash (hex, 64 digits): the leaf's data, hashed as `SHA-256(0x00 || bytes)`. */
  readonly entryHash: string;
  /** The audit path from the leaf upwards, each hash in standard base64. */
  readonly inclusionProof: readonly string[];
  /** The checkpoint as a signed note: the log's signature, then the witnesses' cosignatures. */
  readonly checkpoint: string;
  /** The witnesses (key names) the gateway says cosigned it; each must verify. */
  readonly witnesses: readonly string[];
  /** The checkpoint's origin: `<log name>/<chain id>`. */
  readonly origin: string;
}

/** What a receipt must be checked against: keys obtained from the gateway's and the witnesses' publications, never from the receipt. */
export interface ReceiptPolicy {
  /** The log's note keys, current and past (`<name>+<8 hex>+<base64>` as published, or parsed). */
  readonly logKeys: readonly (string | NoteVerifier)[];
  /** The witnesses whose cosignatures count. */
  readonly witnesses?: readonly (string | NoteVerifier)[];
  /** How many distinct witnesses must have cosigned; by default all of `witnesses`. */
  readonly quorum?: number;
  /** When given, the receipt's origin must be a chain of this log: `<logName>/<chain id>`. */
  readonly logName?: string;
}

/** What a verified receipt proves. */
export interface VerifiedReceipt {
  readonly origin: string;
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly entryHash: string;
  readonly rootHash: Uint8Array;
  /** The witnesses whose cosignatures verified (at least the quorum, and every one the receipt names). */
  readonly cosignedBy: readonly string[];
}

const HEX_HASH = /^[0-9a-f]{64}$/;

/**
 * Verifies a receipt with nothing but the receipt and the published keys:
 * the checkpoint's log signature and its witnesses' cosignatures (as
 * `verifyCheckpoint`: `KEY_UNKNOWN`, `SIGNATURE_INVALID`,
 * `COSIGNATURES_INSUFFICIENT`, `ORIGIN_MISMATCH`), that the receipt's tree
 * size is the checkpoint's and every witness it names did cosign
 * (`INCLUSION_FAILED`, `COSIGNATURES_INSUFFICIENT`), and the inclusion proof
 * from `hashLeaf(entryHash bytes)` to the checkpoint's root (`INCLUSION_FAILED`).
 * A receipt that is not of the {@link LogReceipt} shape is `PROOF_MALFORMED`.
 *
 * @example
 * const keys = await (await fetch(`${gateway}/.well-known/isthmus-log-keys`)).json();
 * const proved = verifyReceipt(item.receipt, {
 *   logKeys: keys.keys.map((key) => key.vkey),
 *   witnesses: keys.witnesses.map((witness) => witness.vkey),
 *   quorum: keys.quorum,
 * });
 * // proved.cosignedBy: ['audit-office.demo-city']
 */
export function verifyReceipt(receipt: unknown, policy: ReceiptPolicy): VerifiedReceipt {
  const checked = receiptShape(receipt);
  if (policy.logName !== undefined && !checked.origin.startsWith(`${policy.logName}/`)) {
    throw new OriginMismatch(`the receipt is for another log than "${policy.logName}"`);
  }
  const checkpoint = verifyCheckpoint(checked.checkpoint, {
    origin: checked.origin,
    logKeys: policy.logKeys.map(verifierOf),
    witnesses: (policy.witnesses ?? []).map(verifierOf),
    ...(policy.quorum !== undefined && { quorum: policy.quorum }),
  });
  if (checkpoint.size !== checked.treeSize) throw new InclusionFailed(`the receipt names a tree of ${checked.treeSize}, its checkpoint signs a tree of ${checkpoint.size}`);
  const missing = checked.witnesses.filter((name) => !checkpoint.cosignedBy.includes(name));
  if (missing.length > 0) {
    throw new CosignaturesInsufficient(`the receipt names witnesses whose cosignature did not verify: ${missing.join(', ')}`, checked.witnesses.length, checkpoint.cosignedBy);
  }
  verifyInclusion({
    index: checked.leafIndex,
    size: checked.treeSize,
    leafHash: hashLeaf(Buffer.from(checked.entryHash, 'hex')),
    rootHash: checkpoint.rootHash,
    proof: checked.proof,
  });
  return {
    origin: checked.origin,
    leafIndex: checked.leafIndex,
    treeSize: checked.treeSize,
    entryHash: checked.entryHash,
    rootHash: checkpoint.rootHash,
    cosignedBy: checkpoint.cosignedBy,
  };
}

function verifierOf(key: string | NoteVerifier): NoteVerifier {
  return typeof key === 'string' ? parseVerifierKey(key) : key;
}

/** The receipt as parsed JSON gives it, checked field by field before anything is hashed. */
function receiptShape(value: unknown): LogReceipt & { readonly proof: readonly Uint8Array[] } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ProofMalformed('a receipt is a JSON object');
  const receipt = value as Record<string, unknown>;
  const count = (name: string): number => {
    const n = receipt[name];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new ProofMalformed(`a receipt's ${name} is a whole number ≥ 0`);
    return n;
  };
  const text = (name: string): string => {
    const s = receipt[name];
    if (typeof s !== 'string' || s === '') throw new ProofMalformed(`a receipt's ${name} is a non-empty string`);
    return s;
  };
  const strings = (name: string): readonly string[] => {
    const list = receipt[name];
    if (!Array.isArray(list) || !list.every((item): item is string => typeof item === 'string')) throw new ProofMalformed(`a receipt's ${name} is a list of strings`);
    return list;
  };
  const leafIndex = count('leafIndex');
  const treeSize = count('treeSize');
  const entryHash = text('entryHash');
  if (!HEX_HASH.test(entryHash)) throw new ProofMalformed('a receipt\'s entryHash is 64 lowercase hex digits');
  const inclusionProof = strings('inclusionProof');
  const proof = inclusionProof.map((hash) => {
    const bytes = decodeBase64(hash);
    if (bytes === undefined || bytes.length !== HASH_SIZE) throw new ProofMalformed(`a receipt's inclusionProof holds ${HASH_SIZE}-byte hashes in base64`);
    return new Uint8Array(bytes);
  });
  return { leafIndex, treeSize, entryHash, inclusionProof, checkpoint: text('checkpoint'), witnesses: strings('witnesses'), origin: text('origin'), proof };
}

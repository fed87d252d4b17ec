import { sql, type Kysely } from 'kysely';
import { createStridedReader, hashLeaf, proveConsistencyFrom, proveInclusionFrom, type SubtreeReader, type SubtreeRef } from '../../packages/isthmus-log-proofs/src/index.ts';
import type { StoreSchema } from '../store/store-schema.ts';
import { AccessLogUnavailableError } from './access-log-error.ts';

/** The levels `access_log_tree_nodes` keeps: every multiple of this (level 0 is the entries). */
export const TREE_NODE_STRIDE = 4;

/** A checkpoint that enough witnesses cosigned, as receipts and the evidence gate read it. */
export interface CosignedCheckpoint {
  readonly number: number;
  readonly size: number;
  /** Hex of the root hash. */
  readonly rootHash: string;
  /** The log's note with every stored cosignature appended (`cosignNote` semantics). */
  readonly note: string;
  /** The witnesses that cosigned it, by name, sorted. */
  readonly witnesses: readonly string[];
}

/** Hex → the 32 raw bytes. */
export function hexBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** The leaf hash of an entry: SHA-256(0x00 || the 32 bytes of its `hash` column). */
export function leafHashOf(entryHash: string): Uint8Array {
  return hashLeaf(hexBytes(entryHash));
}

/**
 * The subtree reader over the database for one chain: level 0 from
 * `access_log.hash`, levels that are multiples of {@link TREE_NODE_STRIDE}
 * from `access_log_tree_nodes`, any other level folded from the ≤ 8 stored
 * refs below it (`createStridedReader`). One query per call, whatever was
 * asked. Throws `AccessLogUnavailableError` when a subtree is missing (a
 * detached month, or a tree not written this far).
 */
export function createSubtreeReader(db: Kysely<StoreSchema>, chainId: string): SubtreeReader {
  return createStridedReader((refs) => readStoredSubtrees(db, chainId, refs), TREE_NODE_STRIDE);
}

/** Stored subtrees only (level 0 and multiples of the stride), in the order asked, in one query. */
async function readStoredSubtrees(db: Kysely<StoreSchema>, chainId: string, refs: readonly SubtreeRef[]): Promise<readonly Uint8Array[]> {
  const seqs = refs.filter((ref) => ref.level === 0).map((ref) => String(ref.index + 1));
  const nodes = refs.filter((ref) => ref.level > 0);
  const { rows } = await sql<{ level: number; idx: string | number; hash: string }>`
    select 0 as level, seq - 1 as idx, hash from access_log
      where chain_id = ${chainId} and seq = any(${`{${seqs.join(',')}}`}::bigint[])
    union all
    select n.level::int, n.idx, n.hash from access_log_tree_nodes n
      join unnest(${`{${nodes.map((ref) => ref.level).join(',')}}`}::int[], ${`{${nodes.map((ref) => String(ref.index)).join(',')}}`}::bigint[]) as wanted(level, idx)
        on n.level = wanted.level and n.idx = wanted.idx
      where n.chain_id = ${chainId}`.execute(db);
  const found = new Map<string, Uint8Array>();
  for (const row of rows) found.set(`${Number(row.level)}:${Number(row.idx)}`, Number(row.level) === 0 ? leafHashOf(row.hash) : hexBytes(row.hash));
  return refs.map((ref) => {
    const hash = found.get(`${ref.level}:${ref.index}`);
    if (hash === undefined) throw new AccessLogUnavailableError(`the log tree of chain ${chainId} has no subtree at level ${ref.level}, index ${ref.index}`);
    return hash;
  });
}

/**
 * The inclusion proof of leaf `leafIndex` (the entry with seq `leafIndex + 1`)
 * in the chain's tree of `treeSize` leaves, in one query.
 *
 * @example
 * const proof = await proveInclusion(db, chainId, entry.seq - 1, checkpoint.size);
 */
export function proveInclusion(db: Kysely<StoreSchema>, chainId: string, leafIndex: number, treeSize: number): Promise<Uint8Array[]> {
  return proveInclusionFrom(createSubtreeReader(db, chainId), leafIndex, treeSize);
}

/** The consistency proof from the chain's tree of `fromSize` to that of `toSize`, in one query (empty when either is 0 or they are equal). */
export function proveConsistency(db: Kysely<StoreSchema>, chainId: string, fromSize: number, toSize: number): Promise<Uint8Array[]> {
  return proveConsistencyFrom(createSubtreeReader(db, chainId), fromSize, toSize);
}

/**
 * The chain's latest checkpoint that at least `quorum` witnesses cosigned
 * (and of at least `minSize` leaves, when given), with its cosignatures
 * appended to the note; undefined when there is none yet. Reads what the
 * gateway stored; the witnesses' own records are what verify trusts.
 */
export async function latestCosignedCheckpoint(db: Kysely<StoreSchema>, chainId: string, quorum: number, minSize = 0): Promise<CosignedCheckpoint | undefined> {
  const { rows } = await sql<{ number: number; size: string | number; root_hash: string; note: string }>`
    select c.number, c.size, c.root_hash, c.note from access_log_tree_checkpoints c
    where c.chain_id = ${chainId} and c.size >= ${minSize}
      and (select count(distinct s.witness) from access_log_cosignatures s where s.chain_id = c.chain_id and s.number = c.number) >= ${quorum}
    order by c.number desc limit 1`.execute(db);
  const row = rows[0];
  if (!row) return undefined;
  const cosignatures = await db
    .selectFrom('access_log_cosignatures')
    .select(['witness', 'signature'])
    .where('chain_id', '=', chainId)
    .where('number', '=', row.number)
    .orderBy('witness')
    .execute();
  return {
    number: row.number,
    size: Number(row.size),
    rootHash: row.root_hash,
    note: withCosignatures(row.note, cosignatures.map((cosignature) => cosignature.signature)),
    witnesses: cosignatures.map((cosignature) => cosignature.witness),
  };
}

/**
 * The log's note with witnesses' signature lines appended (the signed text,
 * a blank line, then every signature line: `cosignNote` semantics). The
 * log's note already ends with its own signature line and a newline.
 */
export function withCosignatures(note: string, signatureLines: readonly string[]): string {
  const lines = signatureLines.flatMap((block) => block.split('\n')).filter((line) => line !== '');
  return note + lines.map((line) => `${line}\n`).join('');
}

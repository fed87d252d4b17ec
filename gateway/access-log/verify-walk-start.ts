import { sql, type Transaction } from 'kysely';
import { createMerkleFrontier, frontierRefs, type MerkleFrontier } from '../../packages/isthmus-log-proofs/src/index.ts';
import { GENESIS_HASH } from './access-log-record.ts';
import type { StoreSchema } from '../store/store-schema.ts';
import type { WalkStart } from './verify-chain-entries.ts';

/**
 * Where a chain's walk begins: at seq 0 with an empty tree, or, once
 * retention detached months of it, after the highest seq it took — with
 * the frontier retention recorded there (`access_log_detachments.frontier`),
 * so the tree of the remaining entries still gives the witnessed roots. A
 * frontier that was tampered with gives other roots, which the walk reports.
 */
export async function readWalkStart(trx: Transaction<StoreSchema>, chainId: string): Promise<WalkStart> {
  const { rows } = await sql<{ max_seq: string | number; max_seq_hash: string; frontier: unknown }>`
    select max_seq, max_seq_hash, frontier from access_log_detachments
    where chain_id = ${chainId} order by max_seq desc limit 1`.execute(trx);
  const row = rows[0];
  if (!row) return { seq: 0, hash: GENESIS_HASH, frontier: createMerkleFrontier() };
  const seq = Number(row.max_seq);
  return { seq, hash: row.max_seq_hash, frontier: frontierFromJson(seq, row.frontier) };
}

/** The frontier at `size` from its recorded hashes (hex, `frontierRefs(size)` order); undefined when absent or malformed. */
export function frontierFromJson(size: number, value: unknown): MerkleFrontier | undefined {
  const hashes = typeof value === 'string' ? safeParse(value) : value;
  const refs = frontierRefs(size);
  if (!Array.isArray(hashes) || hashes.length !== refs.length || !hashes.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/u.test(h))) return undefined;
  return createMerkleFrontier(refs.map((ref, at) => ({ ...ref, hash: new Uint8Array(Buffer.from(hashes[at] as string, 'hex')) })));
}

/** The frontier's hashes as retention records them. */
export function frontierToJson(frontier: MerkleFrontier): string[] {
  return frontier.subtrees.map((subtree) => Buffer.from(subtree.hash).toString('hex'));
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

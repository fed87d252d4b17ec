import type { Kysely } from 'kysely';
import { parseCheckpoint, parseNote, type LogReceipt } from '../../packages/isthmus-log-proofs/src/index.ts';
import type { StoreSchema } from '../store/store-schema.ts';
import { latestCosignedCheckpoint, proveInclusion, type CosignedCheckpoint } from './log-tree-store.ts';

/** Where an entry sits in its chain's tree, as the reader found it: what a receipt is computed from. */
export interface EntryPlacement {
  readonly chainId: string;
  /** 1-based; the entry is leaf `seq - 1`. */
  readonly seq: number;
  /** The entry's hash (hex): the leaf's data. */
  readonly hash: string;
}

/**
 * An entry's receipt; or word that it has none yet (no quorum-cosigned
 * checkpoint covers it, and `checkAfter` is when one should); or that it
 * never will: its chain was written before the log had a tree (migration
 * 0007), and only the old hash chain covers it.
 */
export type EntryReceipt =
  | { readonly receipt: LogReceipt }
  | { readonly receipt: null; readonly checkAfter: Date }
  | { readonly receipt: null; readonly unavailable: 'LEGACY_CHAIN' };

/** Computes the receipts of the entries of one page. */
export interface ReceiptSource {
  /** One answer per placement, in their order. */
  receiptsFor(placements: readonly EntryPlacement[], at: Date, signal?: AbortSignal): Promise<readonly EntryReceipt[]>;
}

/**
 * How long after a read a citizen should look again for a receipt it did
 * not have yet: the writer checkpoints every 10 s while witnesses are
 * configured, and a witness answers within seconds; a minute leaves room.
 */
export const DEFAULT_RECEIPT_CHECK_AFTER_MS = 60_000;

/** What a receipt source needs. */
export interface ReceiptSourceOptions {
  readonly db: Kysely<StoreSchema>;
  /** How many witnesses must have cosigned a checkpoint for it to count (the gateway's `ISTHMUS_WITNESS_QUORUM`). */
  readonly quorum: number;
  /** Default {@link DEFAULT_RECEIPT_CHECK_AFTER_MS}. */
  readonly checkAfterMs?: number;
}

/**
 * Receipts against the latest quorum-cosigned checkpoint in the database of
 * each chain (issue 12, contract section 5), computed in one pass per page:
 * the entries grouped by chain, one checkpoint lookup per chain, then one
 * proof query per covered entry — bounded by the page size. The receipt
 * carries the checkpoint as cosigned, so `verifyReceipt` checks it with
 * nothing but the published keys: the database is trusted for nothing.
 *
 * @example
 * const receipts = createReceiptSource({ db: store.db, quorum: 1 });
 * const [first] = await receipts.receiptsFor([{ chainId, seq: 42, hash }], new Date());
 */
export function createReceiptSource(options: ReceiptSourceOptions): ReceiptSource {
  const { db, quorum } = options;
  if (!Number.isSafeInteger(quorum) || quorum < 0) throw new TypeError('createReceiptSource: quorum must be a whole number ≥ 0');
  const checkAfterMs = options.checkAfterMs ?? DEFAULT_RECEIPT_CHECK_AFTER_MS;
  return {
    async receiptsFor(placements, at, signal) {
      const chains = [...new Set(placements.map((placement) => placement.chainId))];
      const latest = new Map<string, { readonly checkpoint: CosignedCheckpoint; readonly origin: string } | undefined>();
      const legacy = new Set<string>();
      for (const chainId of chains) {
        signal?.throwIfAborted();
        const checkpoint = await latestCosignedCheckpoint(db, chainId, quorum);
        latest.set(chainId, checkpoint && { checkpoint, origin: parseCheckpoint(parseNote(checkpoint.note).text).origin });
        // Every chain since migration 0007 signs its checkpoint #0 before its first entry: a chain with none is older.
        if (!checkpoint && !(await hasTreeCheckpoint(db, chainId))) legacy.add(chainId);
      }
      const pending: EntryReceipt = { receipt: null, checkAfter: new Date(at.getTime() + checkAfterMs) };
      return Promise.all(
        placements.map(async ({ chainId, seq, hash }): Promise<EntryReceipt> => {
          if (legacy.has(chainId)) return { receipt: null, unavailable: 'LEGACY_CHAIN' };
          const covering = latest.get(chainId);
          if (!covering || covering.checkpoint.size < seq) return pending;
          signal?.throwIfAborted();
          const { checkpoint, origin } = covering;
          const proof = await proveInclusion(db, chainId, seq - 1, checkpoint.size);
          return {
            receipt: {
              leafIndex: seq - 1,
              treeSize: checkpoint.size,
              entryHash: hash,
              inclusionProof: proof.map((node) => Buffer.from(node).toString('base64')),
              checkpoint: checkpoint.note,
              witnesses: checkpoint.witnesses,
              origin,
            },
          };
        }),
      );
    },
  };
}

async function hasTreeCheckpoint(db: Kysely<StoreSchema>, chainId: string): Promise<boolean> {
  const row = await db.selectFrom('access_log_tree_checkpoints').select('number').where('chain_id', '=', chainId).limit(1).executeTakeFirst();
  return row !== undefined;
}

import {
  formatCheckpoint,
  parseCheckpoint,
  parseNote,
  previousCheckpointOf,
  signCheckpoint,
  type CheckpointBody,
  type NoteSigner,
} from '../../packages/isthmus-log-proofs/src/index.ts';

/** A checkpoint as the writer wrote it: its row of `access_log_tree_checkpoints`. */
export interface TreeCheckpoint {
  readonly chainId: string;
  /** 0, 1, 2, … per chain; #0 has size 0 and is written at start-up. */
  readonly number: number;
  readonly size: number;
  /** Hex. */
  readonly rootHash: string;
  /** The signed note, as the log signed it. */
  readonly note: string;
  /** The checkpoint's text (the signed part of the note), which the next one names in its `previous` line. */
  readonly text: string;
  readonly signedAt: Date;
  readonly final: boolean;
}

/** The extension line that says when a checkpoint was signed. */
export const TIME_EXTENSION = 'time';
/** The extension line of a chain's last checkpoint, written at clean shutdown. */
export const FINAL_EXTENSION = 'final';

/** A chain's origin: `<log name>/<chain id>`. */
export function originOf(logName: string, chainId: string): string {
  return `${logName}/${chainId}`;
}

/**
 * Signs the chain's next checkpoint: origin, size, root, `previous` (the
 * checkpoint before, absent only for #0), `time`, and `final` on the last.
 *
 * @example
 * const next = signTreeCheckpoint({ logName, chainId, signer, size, rootHash, previous: last, signedAt: new Date(), final: false });
 */
export function signTreeCheckpoint(input: {
  readonly logName: string;
  readonly chainId: string;
  readonly signer: NoteSigner;
  readonly size: number;
  readonly rootHash: Uint8Array;
  readonly previous: Pick<TreeCheckpoint, 'number' | 'size' | 'text'> | undefined;
  readonly signedAt: Date;
  readonly final: boolean;
}): TreeCheckpoint {
  const body: CheckpointBody = {
    origin: originOf(input.logName, input.chainId),
    size: input.size,
    rootHash: input.rootHash,
    ...(input.previous && { previous: previousCheckpointOf(input.previous) }),
    extensions: [`${TIME_EXTENSION} ${input.signedAt.toISOString()}`, ...(input.final ? [FINAL_EXTENSION] : [])],
  };
  const note = signCheckpoint(body, input.signer);
  return {
    chainId: input.chainId,
    number: input.previous === undefined ? 0 : input.previous.number + 1,
    size: input.size,
    rootHash: Buffer.from(input.rootHash).toString('hex'),
    note,
    text: formatCheckpoint(body),
    signedAt: input.signedAt,
    final: input.final,
  };
}

/** A stored row back as a {@link TreeCheckpoint}. */
export function treeCheckpointOf(row: { chain_id: string; number: number; size: string | number; root_hash: string; note: string; signed_at: Date | string; final: boolean }): TreeCheckpoint {
  const text = parseNote(row.note).text;
  parseCheckpoint(text);
  return {
    chainId: row.chain_id,
    number: Number(row.number),
    size: Number(row.size),
    rootHash: row.root_hash,
    note: row.note,
    text,
    signedAt: new Date(row.signed_at),
    final: row.final,
  };
}

/** The row's JSON for `access_log_append_tree`. */
export function checkpointJson(checkpoint: TreeCheckpoint): string {
  return JSON.stringify({
    number: checkpoint.number,
    size: checkpoint.size,
    root_hash: checkpoint.rootHash,
    note: checkpoint.note,
    signed_at: checkpoint.signedAt.toISOString(),
    final: checkpoint.final,
  });
}

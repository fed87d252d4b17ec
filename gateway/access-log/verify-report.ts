/**
 * What `verifyAccessLog` found, chain by chain: the problems (each naming
 * the entry or the checkpoint to look at), how much of each chain the
 * witnesses vouch for, and what could not be proven.
 */

/**
 * - `EDITED`: an entry's content no longer matches its hash (the entry is named),
 *   or its hash is right but the entry after it links to something else.
 * - `MOVED`: an entry whose content hashes correctly only under another seq:
 *   it was written as seq X and now stands at Y (swaps show as two).
 * - `DUPLICATE`: two entries claim one seq; the one that is not in the chain
 *   (and in the witnessed tree) is named as forged.
 * - `MISSING`: a seq is absent between entries, and retention did not take it.
 * - `CHAIN_CUT`: the chain holds fewer entries than a witnessed (or its own
 *   signed) checkpoint covers.
 * - `AFTER_FINAL`: an entry stands after the chain's final checkpoint.
 * - `UNWITNESSED_CHAIN`: a chain with entries that no witness knows.
 * - `REWRITTEN`: a checkpoint's root differs from the tree of the entries
 *   under it, and no single entry explains it (hashes recomputed).
 * - `CHECKPOINT_MISSING`: a checkpoint the witnesses cosigned (or the next one
 *   names) is not in the database's table.
 * - `CHECKPOINT_ALTERED`: a checkpoint row differs from what was signed or witnessed.
 * - `UNKNOWN_KEY`: a checkpoint is not signed by any pinned log key.
 * - `BAD_CHECKPOINT`: a checkpoint does not parse, or its signature does not verify.
 * - `WITNESS_UNAVAILABLE`: a witness could not be read, or answered with
 *   checkpoints whose signatures do not verify.
 */
export type AccessLogProblemKind =
  | 'EDITED'
  | 'MOVED'
  | 'DUPLICATE'
  | 'MISSING'
  | 'CHAIN_CUT'
  | 'AFTER_FINAL'
  | 'UNWITNESSED_CHAIN'
  | 'REWRITTEN'
  | 'CHECKPOINT_MISSING'
  | 'CHECKPOINT_ALTERED'
  | 'UNKNOWN_KEY'
  | 'BAD_CHECKPOINT'
  | 'WITNESS_UNAVAILABLE';

/** One thing wrong, where it is, in one line without personal data. */
export interface AccessLogProblem {
  readonly kind: AccessLogProblemKind;
  /** The chain; empty for a problem with a witness rather than a chain. */
  readonly chainId: string;
  /** The seq to look at (the edited entry, the first missing or cut seq, …); 0 when a checkpoint is meant. */
  readonly seq: number;
  /** The entry to look at, when one is known. */
  readonly entryId: string | null;
  /** The checkpoint meant, by its number in the chain, when one is. */
  readonly checkpoint: number | null;
  readonly detail: string;
}

/**
 * - `started`: the chain's checkpoint #0 is witnessed, its final one is not: it
 *   crashed, or its gateway still runs.
 * - `stopped`: its final checkpoint is witnessed (a clean shutdown).
 * - `unwitnessed`: no witness knows of its start (no witnesses, or a legacy chain).
 */
export type ChainLifecycle = 'started' | 'stopped' | 'unwitnessed';

/**
 * The gateway process that wrote a chain, as it registered itself in
 * `gateway_instances` when it started: which replica wrote what. Read from
 * the database, so it names the writer and proves nothing (the entries and
 * checkpoints are the evidence).
 */
export interface ChainWriter {
  readonly hostname: string;
  readonly version: string;
  readonly startedAt: Date;
}

/** One chain's verification. */
export interface ChainReport {
  readonly chainId: string;
  readonly origin: string;
  /** The process that wrote it; `null` when no instance of that id is registered (a chain known only to the witnesses, or forged). */
  readonly writer: ChainWriter | null;
  /** Entries read from the database. */
  readonly entries: number;
  /** Seqs retention detached (entries 1..retiredSeq are no longer in the database). */
  readonly retiredSeq: number;
  /** Last seq in the database (or the last retired one). */
  readonly headSeq: number;
  /** Checkpoints in the database's table for this chain. */
  readonly checkpoints: number;
  /** Size of the latest checkpoint cosigned by a quorum of the witnesses; 0 if none. */
  readonly witnessedSize: number;
  /** The witnesses that cosigned that checkpoint. */
  readonly witnessedBy: readonly string[];
  /** Entries proven against that checkpoint (those of the database up to its size). */
  readonly coveredEntries: number;
  /** Entries past it: a live chain's tail not yet cosigned, or what a crashed one wrote last. Counted, not a failure. */
  readonly uncoveredEntries: number;
  /** The first entry not covered, if any. */
  readonly firstUncovered: { readonly seq: number; readonly entryId: string } | null;
  readonly lifecycle: ChainLifecycle;
  /** A chain from before witnessed checkpoints: only its hash chain was checked. */
  readonly legacy: boolean;
  readonly problems: readonly AccessLogProblem[];
}

/** One witness as verify saw it. */
export interface WitnessReport {
  readonly name: string;
  readonly url: string;
  readonly ok: boolean;
  /** Checkpoints it answered with whose signatures verified. */
  readonly checkpoints: number;
  /** Why it could not be used, in one line. */
  readonly error?: string;
}

/** The whole run. */
export interface AccessLogVerification {
  /** Number of chains checked. */
  readonly chains: number;
  readonly entries: number;
  readonly checkpoints: number;
  /** Every problem of every chain (and of the witnesses), by chain then seq. Empty when intact. */
  readonly problems: readonly AccessLogProblem[];
  readonly chainReports: readonly ChainReport[];
  readonly witnesses: readonly WitnessReport[];
  readonly quorum: number;
  /**
   * True when the chains were checked against checkpoints fetched from at
   * least `quorum` witnesses (≥ 1): evidence outside the database. False:
   * only the database's own rows were compared with each other.
   */
  readonly proven: boolean;
  /** Where the log keys checkpoints were checked with came from; `none`: no keys, so no checkpoint signature was checked. */
  readonly keySource: 'pinned' | 'none';
  /** Entries no witnessed checkpoint covers yet, over all chains. */
  readonly uncoveredEntries: number;
}

/** A problem, the fields callers most often leave out filled in. */
export function problem(kind: AccessLogProblemKind, chainId: string, fields: { seq?: number; entryId?: string | null; checkpoint?: number | null; detail: string }): AccessLogProblem {
  return { kind, chainId, seq: fields.seq ?? 0, entryId: fields.entryId ?? null, checkpoint: fields.checkpoint ?? null, detail: fields.detail };
}

/** How a checkpoint is named in a detail: `checkpoint #3`, or `a checkpoint` when its number is not known. */
export function checkpointName(number: number): string {
  return number >= 0 ? `checkpoint #${number}` : 'a checkpoint';
}

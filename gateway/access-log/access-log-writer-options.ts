import type { Kysely } from 'kysely';
import type { NoteSigner } from '../../packages/isthmus-log-proofs/src/index.ts';
import type { StoreSchema } from '../store/store-schema.ts';
import type { AccessLogEntryInput } from './access-log-entry.ts';
import type { CheckpointSigner } from './access-log-checkpoint.ts';
import type { TreeCheckpoint } from './log-tree-checkpoint.ts';

/**
 * The access log writer's contract: its options, what it reports, and its
 * defaults (`createAccessLogWriter` in `access-log-writer.ts` implements it).
 */

/** Most entries written in one transaction. */
export const DEFAULT_MAX_BATCH = 512;
/**
 * While entries arrive concurrently (the last batch held more than one), the
 * writer waits this long before taking the next batch, so that it gathers
 * more: PostgreSQL's `commit_delay`, for the log. One entry alone is never
 * delayed.
 */
export const DEFAULT_COMMIT_DELAY_MS = 2;
/** A checkpoint is signed once this many entries have been added since the last one. */
export const DEFAULT_CHECKPOINT_EVERY = 1_000;
/** …or this often, if anything was added since the last one (the gateway passes 10 s when witnesses are configured). */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 60_000;
/** How long an `append` may wait for its commit, queue included; also the batch's statement timeout. */
export const DEFAULT_APPEND_TIMEOUT_MS = 5_000;
/** The database role that may only INSERT into and SELECT from the log tables (migration 0003). */
export const LOG_WRITER_ROLE = 'isthmus_log_writer';

/** Where an entry ended up. */
export interface AppendedEntry {
  readonly id: string;
  readonly chainId: string;
  readonly seq: number;
  readonly hash: string;
  /** How many entries the group commit this one rode in carried (for the request's trace). */
  readonly batchSize: number;
}

/** One transaction of the writer, for metrics and tests: group commit shows as `entries` > 1. */
export interface AccessLogBatchReport {
  readonly entries: number;
  readonly ok: boolean;
  readonly durationMs: number;
  /** The seq a checkpoint was signed at in this transaction, if one was. */
  readonly checkpointSeq?: number;
  /** The chain's last seq after this transaction, when it committed. */
  readonly lastSeq?: number;
  /** Why it failed (the database's error; log it, do not show it). */
  readonly error?: unknown;
}

/** The writer's state, for `/readyz` and metrics. */
export interface AccessLogWriterStatus {
  readonly chainId: string;
  readonly queued: number;
  /** Last committed seq; undefined until known, and after a failed batch until the next one reads it back. */
  readonly committedSeq: number | undefined;
  readonly checkpointSeq: number | undefined;
  /** The number of the chain's last checkpoint (#0 is written by `ready()`). */
  readonly checkpointNumber: number | undefined;
  /** Whether entries are written under {@link LOG_WRITER_ROLE}; undefined before the first batch. */
  readonly usesLogWriterRole: boolean | undefined;
  readonly closed: boolean;
}

/** Options of `createAccessLogWriter`; every limit defaults to the named constant above. */
export interface AccessLogWriterOptions {
  readonly db: Kysely<StoreSchema>;
  /** This gateway process's instance id: one chain per process, so replicas never contend. */
  readonly chainId: string;
  /** The log's Ed25519 note key, named `logName`; a fresh in-memory one by default (tests). */
  readonly noteSigner?: NoteSigner;
  /** `ISTHMUS_LOG_NAME`: a chain's origin is `<logName>/<chainId>`. Default `DEFAULT_LOG_NAME` (`log-tree-note-key.ts`). */
  readonly logName?: string;
  /** Ignored: the JWS checkpoints of `access_log_checkpoints` are no longer written (issue 12); kept so old callers compile. */
  readonly signer?: CheckpointSigner;
  /** Default {@link DEFAULT_MAX_BATCH}. */
  readonly maxBatch?: number;
  /** Default {@link DEFAULT_COMMIT_DELAY_MS}; 0 writes each batch as soon as the last one committed. */
  readonly commitDelayMs?: number;
  /** Default {@link DEFAULT_CHECKPOINT_EVERY}. */
  readonly checkpointEvery?: number;
  /** Default {@link DEFAULT_CHECKPOINT_INTERVAL_MS}. */
  readonly checkpointIntervalMs?: number;
  /** Default {@link DEFAULT_APPEND_TIMEOUT_MS}. */
  readonly appendTimeoutMs?: number;
  readonly now?: () => Date;
  /** Called after every transaction, committed or not. Must not throw. */
  readonly onBatch?: (report: AccessLogBatchReport) => void;
  /** Called after a checkpoint committed (#0, periodic, final), for the witness publisher. Must not throw. */
  readonly onCheckpoint?: (checkpoint: TreeCheckpoint) => void;
}

/** Appends entries to one hash chain of the access log, many per transaction. */
export interface AccessLogWriter {
  readonly chainId: string;
  /**
   * Queues an entry and resolves once it is committed. Rejects with
   * `AccessLogInvalidEntryError` at once for an unstorable entry, and with
   * `AccessLogUnavailableError` when its batch fails, when it is not
   * committed within `appendTimeoutMs`, or when `signal` aborts. An abort or
   * timeout while its batch is already being written cannot take the entry
   * back: it may still be committed (the log then records a request that was
   * refused, which errs on the safe side).
   */
  append(entry: AccessLogEntryInput, signal?: AbortSignal): Promise<AppendedEntry>;
  /**
   * Prepares the log: probes the writer role, ensures partitions, registers
   * the chain and the note key, and writes the chain's checkpoint #0 (size 0,
   * "started"). Runs by itself before the first batch; call it at start-up
   * to fail fast.
   */
  ready(signal?: AbortSignal): Promise<void>;
  /** Resolves when everything appended before the call is committed or has failed. */
  flush(signal?: AbortSignal): Promise<void>;
  /**
   * Refuses further appends, flushes, then signs the chain's `final`
   * checkpoint ("stopped"). Rejects
   * with `AccessLogUnavailableError` if that fails (call again to retry).
   */
  close(signal?: AbortSignal): Promise<void>;
  /**
   * Signs the chain's checkpoints from the next one on with `signer` (a
   * rotated note key, named after the log); the earlier ones stay signed by
   * the key before, which stays in the published history. Registers the key
   * in `access_log_note_keys` first.
   */
  useNoteSigner(signer: NoteSigner): Promise<void>;
  status(): AccessLogWriterStatus;
}


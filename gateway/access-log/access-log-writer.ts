import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import type { AccessLogEntryInput } from './access-log-entry.ts';
import { AccessLogClosedError, AccessLogUnavailableError } from './access-log-error.ts';
import { GENESIS_HASH, hashAccessLogRecord, rowJson, type AccessLogRecord } from './access-log-record.ts';
import { ensurePartitions, ensurePartitionsFor, monthOf } from './ensure-partitions.ts';
import { normalizeAccessLogEntry } from './normalize-access-log-entry.ts';
import { generateNoteKey, loadMerkleFrontier, parseSignerKey, type MerkleFrontier } from '../../packages/isthmus-log-proofs/src/index.ts';
import { checkpointJson, signTreeCheckpoint, treeCheckpointOf, type TreeCheckpoint } from './log-tree-checkpoint.ts';
import { DEFAULT_LOG_NAME } from './log-tree-note-key.ts';
import { createSubtreeReader, leafHashOf, TREE_NODE_STRIDE } from './log-tree-store.ts';
import {
  DEFAULT_APPEND_TIMEOUT_MS,
  DEFAULT_CHECKPOINT_EVERY,
  DEFAULT_CHECKPOINT_INTERVAL_MS,
  DEFAULT_COMMIT_DELAY_MS,
  DEFAULT_MAX_BATCH,
  LOG_WRITER_ROLE,
  type AccessLogBatchReport,
  type AccessLogWriter,
  type AccessLogWriterOptions,
  type AppendedEntry,
} from './access-log-writer-options.ts';

export * from './access-log-writer-options.ts';

/**
 * First key of the advisory lock each log transaction takes on its chain
 * (the second is `hashtext(chain_id)`); an arbitrary constant that names
 * "Isthmus access log" among other advisory lock users.
 */
const CHAIN_LOCK_CLASS = 0x15_7a_10_6;

interface Pending {
  readonly id: string;
  readonly entry: AccessLogEntryInput;
  readonly promise: Promise<AppendedEntry>;
  settle(outcome: { ok: true; value: AppendedEntry } | { ok: false; error: Error }): void;
  done: boolean;
}

interface Head {
  readonly seq: number;
  readonly hash: string;
}

/** What the writer knows of its chain: the hash chain's head, the tree's frontier, the last checkpoint. */
interface TreeState {
  readonly head: Head;
  readonly frontier: MerkleFrontier;
  readonly checkpoint: TreeCheckpoint | undefined;
}

/**
 * Creates the writer. Group commit: appends are queued, and one transaction
 * at a time writes everything queued so far (up to `maxBatch`), so one
 * commit — one WAL flush — serves many requests, and a request waits for its
 * batch rather than for its own round trip. Each entry's hash covers the
 * previous one's; the chain head advances only after COMMIT.
 *
 * When a batch fails, every entry in it is rejected and the in-memory head
 * is forgotten: the next transaction takes the chain's advisory lock (so a
 * transaction whose COMMIT outcome was lost has finished either way) and
 * reads the last committed entry back. Nothing is sticky, so the writer
 * recovers by itself once the database answers again.
 *
 * @example
 * const writer = createAccessLogWriter({ db: store.db, chainId: gateway.instanceId, signer });
 * await writer.ready();
 * const { seq } = await writer.append(entry); // only now may the response leave
 */
export function createAccessLogWriter(options: AccessLogWriterOptions): AccessLogWriter {
  const { db, chainId } = options;
  const maxBatch = positiveInteger('maxBatch', options.maxBatch ?? DEFAULT_MAX_BATCH);
  const commitDelayMs = options.commitDelayMs ?? DEFAULT_COMMIT_DELAY_MS;
  if (!Number.isFinite(commitDelayMs) || commitDelayMs < 0 || commitDelayMs > 100) throw new TypeError('createAccessLogWriter: commitDelayMs must be from 0 to 100');
  const checkpointEvery = positiveInteger('checkpointEvery', options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY);
  const checkpointIntervalMs = positiveInteger('checkpointIntervalMs', options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS);
  const appendTimeoutMs = positiveInteger('appendTimeoutMs', options.appendTimeoutMs ?? DEFAULT_APPEND_TIMEOUT_MS);
  const now = options.now ?? (() => new Date());
  if (typeof chainId !== 'string' || chainId === '') throw new TypeError('createAccessLogWriter: chainId must be a non-empty string');
  const logName = options.logName ?? DEFAULT_LOG_NAME;
  let noteSigner = options.noteSigner ?? parseSignerKey(generateNoteKey(logName).signerKey);
  if (noteSigner.name !== logName) throw new TypeError('createAccessLogWriter: the note key must be named after the log (logName)');
  const readSubtrees = createSubtreeReader(db, chainId);

  let queue: Pending[] = [];
  const inFlight = new Set<Pending>();
  let draining: Promise<void> | undefined;
  let tree: TreeState | undefined;
  let intervalDue = false;
  let useRole: boolean | undefined;
  let initializing: Promise<void> | undefined;
  let initialized = false;
  let ensuredMonth: string | undefined;
  const knownMonths = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;

  const init = (): Promise<void> => {
    initializing ??= (async () => {
      const at = now();
      const role = await sql<{ member: boolean }>`select pg_has_role(current_user, r.oid, 'MEMBER') as member from pg_roles r where r.rolname = ${LOG_WRITER_ROLE}`.execute(db);
      useRole = role.rows[0]?.member === true;
      for (const month of await ensurePartitions(db, at)) knownMonths.add(month);
      ensuredMonth = monthOf(at);
      await db.insertInto('access_log_chains').values({ chain_id: chainId, started_at: at }).onConflict((conflict) => conflict.doNothing()).execute();
      await db.insertInto('access_log_note_keys').values({ vkey: noteSigner.verifierKey, first_used_at: at }).onConflict((conflict) => conflict.doNothing()).execute();
      tree ??= await recoverTree();
      // Checkpoint #0, "started": written (and witnessed) before the gateway serves.
      if (tree.checkpoint === undefined) await writeCheckpointOnly(false);
      // Started here, not in the factory: nothing runs until the log is used.
      if (!closed) {
        timer = setInterval(() => {
          intervalDue = true;
          if (uncheckpointed()) schedule();
        }, checkpointIntervalMs);
        timer.unref();
      }
      initialized = true;
    })().catch((error: unknown) => {
      initializing = undefined;
      throw error;
    });
    return initializing;
  };

  /** Partitions for the month that has just begun (and the next), and for any entry's month not seen yet. */
  const ensureMonths = async (at: Date, batch: readonly Pending[]) => {
    if (monthOf(at) !== ensuredMonth) {
      for (const month of await ensurePartitions(db, at)) knownMonths.add(month);
      ensuredMonth = monthOf(at);
    }
    const missing = batch.map((pending) => pending.entry.occurredAt).filter((occurredAt) => !knownMonths.has(monthOf(occurredAt)));
    if (missing.length > 0) for (const month of await ensurePartitionsFor(db, missing)) knownMonths.add(month);
  };

  /**
   * The chain's head, last checkpoint and frontier, read back under the
   * chain's lock (a transaction whose COMMIT was reported lost has ended by
   * then); the frontier is rebuilt from the stored subtrees in one query.
   */
  const recoverTree = async (): Promise<TreeState> => {
    const { head, checkpoint } = await db.transaction().execute(async (trx) => {
      await sql`select set_config('statement_timeout', ${String(appendTimeoutMs)}, true), pg_advisory_xact_lock(${CHAIN_LOCK_CLASS}::int4, hashtext(${chainId}))`.execute(trx);
      const last = await trx.selectFrom('access_log').select(['seq', 'hash']).where('chain_id', '=', chainId).orderBy('seq', 'desc').limit(1).executeTakeFirst();
      const row = await trx.selectFrom('access_log_tree_checkpoints').selectAll().where('chain_id', '=', chainId).orderBy('number', 'desc').limit(1).executeTakeFirst();
      return { head: last ? { seq: Number(last.seq), hash: last.hash } : { seq: 0, hash: GENESIS_HASH }, checkpoint: row ? treeCheckpointOf(row) : undefined };
    });
    return { head, checkpoint, frontier: await loadMerkleFrontier(readSubtrees, head.seq) };
  };

  const append_ = (entries: string, nodes: string, checkpoint: TreeCheckpoint | undefined) =>
    // Entries, subjects, tree nodes and checkpoint in one statement: one round trip, one transaction (migration 0007).
    sql`select access_log_append_tree(${chainId}, ${entries}::jsonb, ${nodes}::jsonb, ${checkpoint ? checkpointJson(checkpoint) : null}::jsonb, ${useRole === true}, ${appendTimeoutMs})`.execute(db);

  /** A checkpoint with no new entries: #0 at start-up, `final` at close, or one the interval asked for after a failure. */
  const writeCheckpointOnly = async (final: boolean): Promise<TreeCheckpoint> => {
    try {
      tree ??= await recoverTree();
      const state = tree;
      const checkpoint = signTreeCheckpoint({ logName, chainId, signer: noteSigner, size: state.head.seq, rootHash: state.frontier.rootHash(), previous: state.checkpoint, signedAt: now(), final });
      await append_('[]', '[]', checkpoint);
      tree = { ...state, checkpoint };
      announce(checkpoint);
      return checkpoint;
    } catch (cause) {
      tree = undefined;
      throw cause;
    }
  };

  const writeBatch = async (batch: readonly Pending[]): Promise<boolean> => {
    const started = performance.now();
    const at = now();
    for (const pending of batch) inFlight.add(pending);
    try {
      await init();
      await ensureMonths(at, batch);
      tree ??= await recoverTree();
      const { frontier, checkpoint: last } = tree;
      const records: AccessLogRecord[] = [];
      const nodes: { level: number; idx: number; hash: string }[] = [];
      let prev = tree.head;
      for (const pending of batch) {
        const unhashed = { id: pending.id, chainId, seq: prev.seq + 1, prevHash: prev.hash, entry: pending.entry };
        const record = { ...unhashed, hash: hashAccessLogRecord(unhashed) };
        records.push(record);
        for (const subtree of frontier.append(leafHashOf(record.hash))) {
          if (subtree.level % TREE_NODE_STRIDE === 0) nodes.push({ level: subtree.level, idx: subtree.index, hash: Buffer.from(subtree.hash).toString('hex') });
        }
        prev = { seq: record.seq, hash: record.hash };
      }
      const sinceCheckpoint = prev.seq - (last?.size ?? 0);
      const due = sinceCheckpoint > 0 && (sinceCheckpoint >= checkpointEvery || intervalDue);
      const checkpoint = due ? signTreeCheckpoint({ logName, chainId, signer: noteSigner, size: prev.seq, rootHash: frontier.rootHash(), previous: last, signedAt: at, final: false }) : undefined;
      await append_(JSON.stringify(records.map(rowJson)), JSON.stringify(nodes), checkpoint);
      tree = { head: prev, frontier, checkpoint: checkpoint ?? last };
      if (!uncheckpointed()) intervalDue = false;
      records.forEach((record, index) => batch[index]!.settle({ ok: true, value: { id: record.id, chainId, seq: record.seq, hash: record.hash, batchSize: batch.length } }));
      report({ entries: batch.length, ok: true, durationMs: performance.now() - started, lastSeq: prev.seq, ...(checkpoint && { checkpointSeq: prev.seq }) });
      if (checkpoint) announce(checkpoint);
      return true;
    } catch (cause) {
      // The COMMIT may or may not have happened: forget the head and the frontier and read them back, under the chain lock, next time.
      tree = undefined;
      const error = cause instanceof AccessLogUnavailableError ? cause : new AccessLogUnavailableError(undefined, { cause });
      for (const pending of batch) pending.settle({ ok: false, error });
      report({ entries: batch.length, ok: false, durationMs: performance.now() - started, error: cause });
      return false;
    } finally {
      for (const pending of batch) inFlight.delete(pending);
    }
  };

  const report = (batchReport: AccessLogBatchReport) => {
    try {
      options.onBatch?.(batchReport);
    } catch {
      // A reporting hook must not decide whether entries were logged.
    }
  };
  const announce = (checkpoint: TreeCheckpoint) => {
    try {
      options.onCheckpoint?.(checkpoint);
    } catch {
      // Publishing is asynchronous and best effort; the checkpoint is committed.
    }
  };

  const take = (): Pending[] => {
    const batch: Pending[] = [];
    let index = 0;
    while (index < queue.length && batch.length < maxBatch) {
      const pending = queue[index++]!;
      if (!pending.done) batch.push(pending);
    }
    queue = queue.slice(index);
    return batch;
  };

  let lastBatchSize = 0;
  const drain = async () => {
    try {
      for (;;) {
        // Concurrent requests: let more entries join this transaction (unless it is already full, or the writer is closing).
        if (commitDelayMs > 0 && lastBatchSize > 1 && !closed && queue.length < maxBatch) await delay(commitDelayMs);
        const batch = take();
        lastBatchSize = batch.length;
        const checkpointWanted = initialized && intervalDue && uncheckpointed();
        if (batch.length === 0 && !checkpointWanted) return;
        const ok = await writeBatch(batch);
        // A checkpoint-only transaction that fails waits for the next tick instead of retrying in a tight loop.
        if (!ok && batch.length === 0) return;
      }
    } finally {
      draining = undefined;
      if (queue.some((pending) => !pending.done)) schedule();
    }
  };

  const schedule = () => {
    draining ??= drain();
  };

  /** Entries were (or may have been, when the head is unknown) added since the last checkpoint. */
  const uncheckpointed = () => tree === undefined || tree.head.seq > (tree.checkpoint?.size ?? 0);

  const append = (input: AccessLogEntryInput, signal?: AbortSignal): Promise<AppendedEntry> => {
    if (closed) return Promise.reject(new AccessLogClosedError());
    let entry: AccessLogEntryInput;
    try {
      entry = normalizeAccessLogEntry(input, now());
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal?.aborted) return Promise.reject(new AccessLogUnavailableError('appending to the access log was aborted', { cause: signal.reason }));

    let resolve!: (value: AppendedEntry) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<AppendedEntry>((yes, no) => {
      resolve = yes;
      reject = no;
    });
    const onAbort = () => pending.settle({ ok: false, error: new AccessLogUnavailableError('appending to the access log was aborted', { cause: signal?.reason }) });
    const deadline = setTimeout(() => pending.settle({ ok: false, error: new AccessLogUnavailableError(`the access log did not commit within ${appendTimeoutMs} ms`) }), appendTimeoutMs);
    const pending: Pending = {
      id: randomUUID(),
      entry,
      promise,
      done: false,
      settle(outcome) {
        if (pending.done) return;
        pending.done = true;
        clearTimeout(deadline);
        signal?.removeEventListener('abort', onAbort);
        if (outcome.ok) resolve(outcome.value);
        else reject(outcome.error);
      },
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    queue.push(pending);
    schedule();
    return promise;
  };

  const flush = async (signal?: AbortSignal): Promise<void> => {
    const waiting = [...inFlight, ...queue].filter((pending) => !pending.done).map((pending) => pending.promise.then(noop, noop));
    // Each entry's own deadline bounds this wait; the signal lets a caller stop sooner.
    await raceSignal(Promise.all(waiting), signal);
  };

  const close = (signal?: AbortSignal): Promise<void> => {
    closed = true;
    closing ??= (async () => {
      clearInterval(timer);
      await flush(signal);
      while (draining) await raceSignal(draining, signal);
      try {
        await init();
        clearInterval(timer);
        // "Stopped" is the final checkpoint, witnessed: evidence, not the mutable `gateway_instances.stopped_at` (no longer set).
        if (tree?.checkpoint?.final !== true) await writeCheckpointOnly(true);
      } catch (cause) {
        closing = undefined;
        throw cause instanceof AccessLogUnavailableError ? cause : new AccessLogUnavailableError('the final access log checkpoint could not be written', { cause });
      }
    })();
    return closing;
  };

  return {
    chainId,
    append,
    ready: (signal) => raceSignal(init(), signal),
    flush,
    close,
    async useNoteSigner(signer) {
      if (signer.name !== logName) throw new TypeError('useNoteSigner: the note key must be named after the log (logName)');
      if (signer.verifierKey === noteSigner.verifierKey) return;
      await db.insertInto('access_log_note_keys').values({ vkey: signer.verifierKey, first_used_at: now() }).onConflict((conflict) => conflict.doNothing()).execute();
      noteSigner = signer;
    },
    status: () => ({
      chainId,
      queued: queue.filter((pending) => !pending.done).length,
      committedSeq: tree?.head.seq,
      checkpointSeq: tree?.checkpoint?.size,
      checkpointNumber: tree?.checkpoint?.number,
      usesLogWriterRole: useRole,
      closed,
    }),
  };
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`createAccessLogWriter: ${name} must be a whole number ≥ 1`);
  return value;
}

function noop(): void {}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits for `promise`, or rejects when `signal` aborts first. */
async function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

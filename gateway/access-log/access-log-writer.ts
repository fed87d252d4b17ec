import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { AccessLogEntryInput } from './access-log-entry.ts';
import { AccessLogClosedError, AccessLogUnavailableError } from './access-log-error.ts';
import { GENESIS_HASH, hashAccessLogRecord, rowJson, type AccessLogRecord } from './access-log-record.ts';
import { signCheckpoint, type CheckpointSigner } from './access-log-checkpoint.ts';
import { canonicalJson, type JsonValue } from './canonical-json.ts';
import { ensurePartitions, ensurePartitionsFor, monthOf } from './ensure-partitions.ts';
import { normalizeAccessLogEntry } from './normalize-access-log-entry.ts';
import type { StoreSchema } from '../store/store-schema.ts';

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
/** …or this often, if anything was added since the last one. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 60_000;
/** How long an `append` may wait for its commit, queue included; also the batch's statement timeout. */
export const DEFAULT_APPEND_TIMEOUT_MS = 5_000;
/** The database role that may only INSERT into and SELECT from the log tables (migration 0003). */
export const LOG_WRITER_ROLE = 'isthmus_log_writer';

/**
 * First key of the advisory lock each log transaction takes on its chain
 * (the second is `hashtext(chain_id)`); an arbitrary constant that names
 * "Isthmus access log" among other advisory lock users.
 */
const CHAIN_LOCK_CLASS = 0x15_7a_10_6;

/** Where an entry ended up. */
export interface AppendedEntry {
  readonly id: string;
  readonly chainId: string;
  readonly seq: number;
  readonly hash: string;
}

/** One transaction of the writer, for metrics and tests: group commit shows as `entries` > 1. */
export interface AccessLogBatchReport {
  readonly entries: number;
  readonly ok: boolean;
  readonly durationMs: number;
  /** The seq a checkpoint was signed at in this transaction, if one was. */
  readonly checkpointSeq?: number;
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
  /** Whether entries are written under {@link LOG_WRITER_ROLE}; undefined before the first batch. */
  readonly usesLogWriterRole: boolean | undefined;
  readonly closed: boolean;
}

export interface AccessLogWriterOptions {
  readonly db: Kysely<StoreSchema>;
  /** This gateway process's instance id: one chain per process, so replicas never contend. */
  readonly chainId: string;
  readonly signer: CheckpointSigner;
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
   * the chain and the checkpoint key. Runs by itself before the first batch;
   * call it at start-up to fail fast.
   */
  ready(signal?: AbortSignal): Promise<void>;
  /** Resolves when everything appended before the call is committed or has failed. */
  flush(signal?: AbortSignal): Promise<void>;
  /**
   * Refuses further appends, flushes, then signs the chain's final checkpoint
   * and marks the gateway instance stopped, in one transaction. Rejects with
   * `AccessLogUnavailableError` if that transaction fails (call again to retry).
   */
  close(signal?: AbortSignal): Promise<void>;
  status(): AccessLogWriterStatus;
}

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
  const { db, chainId, signer } = options;
  const maxBatch = positiveInteger('maxBatch', options.maxBatch ?? DEFAULT_MAX_BATCH);
  const commitDelayMs = options.commitDelayMs ?? DEFAULT_COMMIT_DELAY_MS;
  if (!Number.isFinite(commitDelayMs) || commitDelayMs < 0 || commitDelayMs > 100) throw new TypeError('createAccessLogWriter: commitDelayMs must be from 0 to 100');
  const checkpointEvery = positiveInteger('checkpointEvery', options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY);
  const checkpointIntervalMs = positiveInteger('checkpointIntervalMs', options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS);
  const appendTimeoutMs = positiveInteger('appendTimeoutMs', options.appendTimeoutMs ?? DEFAULT_APPEND_TIMEOUT_MS);
  const now = options.now ?? (() => new Date());
  if (typeof chainId !== 'string' || chainId === '') throw new TypeError('createAccessLogWriter: chainId must be a non-empty string');
  if (!signer || !signer.privateKey || !signer.publicJwk || !signer.kid) throw new TypeError('createAccessLogWriter: signer needs privateKey, publicJwk and kid');

  let queue: Pending[] = [];
  const inFlight = new Set<Pending>();
  let draining: Promise<void> | undefined;
  let head: Head | undefined;
  let checkpointSeq: number | undefined;
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
      await db
        .insertInto('access_log_keys')
        .values({ kid: signer.kid, public_jwk: JSON.stringify(signer.publicJwk), first_used_at: at })
        .onConflict((conflict) => conflict.doNothing())
        .execute();
      const recorded = await db.selectFrom('access_log_keys').select('public_jwk').where('kid', '=', signer.kid).executeTakeFirstOrThrow();
      if (canonicalJson(recorded.public_jwk as JsonValue) !== canonicalJson(JSON.parse(JSON.stringify(signer.publicJwk)) as JsonValue)) {
        throw new AccessLogUnavailableError(`checkpoint key ${signer.kid} is already recorded with a different public key`);
      }
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

  /** Statement timeout, the chain's lock and, when possible, the writer role: first statement of every log transaction. */
  const begin = async (trx: Transaction<StoreSchema>) => {
    await sql`select set_config('statement_timeout', ${String(appendTimeoutMs)}, true), pg_advisory_xact_lock(${CHAIN_LOCK_CLASS}::int4, hashtext(${chainId}))`.execute(trx);
  };
  const assumeRole = async (trx: Transaction<StoreSchema>) => {
    if (useRole) await sql`select set_config('role', ${LOG_WRITER_ROLE}, true)`.execute(trx);
  };
  const readHead = async (trx: Transaction<StoreSchema>): Promise<{ head: Head; checkpointSeq: number | undefined }> => {
    const { rows } = await sql<{ seq: string | number | null; hash: string | null; checkpoint_seq: string | number | null }>`
      select last.seq, last.hash, (select max(seq) from access_log_checkpoints where chain_id = ${chainId}) as checkpoint_seq
      from (select 1) as one
      left join lateral (select seq, hash from access_log where chain_id = ${chainId} order by seq desc limit 1) as last on true`.execute(trx);
    const row = rows[0];
    return {
      head: row?.seq === null || row?.seq === undefined ? { seq: 0, hash: GENESIS_HASH } : { seq: Number(row.seq), hash: row.hash! },
      checkpointSeq: row?.checkpoint_seq === null || row?.checkpoint_seq === undefined ? undefined : Number(row.checkpoint_seq),
    };
  };

  const insertCheckpoint = async (trx: Transaction<StoreSchema>, at: Head, signedAt: Date, final: boolean) => {
    const jws = await signCheckpoint(signer, { chainId, seq: at.seq, hash: at.hash, signedAt, final });
    await trx
      .insertInto('access_log_checkpoints')
      .values({ chain_id: chainId, seq: at.seq, hash: at.hash, jws, signed_at: signedAt, kid: signer.kid, final })
      // A batch whose COMMIT was reported lost may have written this checkpoint already.
      .onConflict((conflict) => conflict.doNothing())
      .execute();
  };

  /** The chain's head, read under the chain's lock: a transaction whose COMMIT was reported lost has ended by then. */
  const recoverHead = () =>
    db.transaction().execute(async (trx) => {
      await begin(trx);
      return readHead(trx);
    });

  const writeBatch = async (batch: readonly Pending[]): Promise<boolean> => {
    const started = performance.now();
    const at = now();
    for (const pending of batch) inFlight.add(pending);
    try {
      await init();
      await ensureMonths(at, batch);
      if (head === undefined) ({ head, checkpointSeq } = await recoverHead());
      const records: AccessLogRecord[] = [];
      let prev = head;
      for (const pending of batch) {
        const unhashed = { id: pending.id, chainId, seq: prev.seq + 1, prevHash: prev.hash, entry: pending.entry };
        const record = { ...unhashed, hash: hashAccessLogRecord(unhashed) };
        records.push(record);
        prev = { seq: record.seq, hash: record.hash };
      }
      const sinceCheckpoint = prev.seq - (checkpointSeq ?? 0);
      const signed = sinceCheckpoint > 0 && (sinceCheckpoint >= checkpointEvery || intervalDue);
      const checkpoint = signed
        ? JSON.stringify({ seq: prev.seq, hash: prev.hash, jws: await signCheckpoint(signer, { chainId, seq: prev.seq, hash: prev.hash, signedAt: at, final: false }), signed_at: at, kid: signer.kid })
        : null;
      // Entries, subjects and checkpoint in one statement: one round trip, one transaction (migration 0004).
      await sql`select access_log_append(${chainId}, ${JSON.stringify(records.map(rowJson))}::jsonb, ${checkpoint}::jsonb, ${useRole === true}, ${appendTimeoutMs})`.execute(db);
      head = prev;
      if (signed) checkpointSeq = prev.seq;
      if (!uncheckpointed()) intervalDue = false;
      records.forEach((record, index) => batch[index]!.settle({ ok: true, value: { id: record.id, chainId, seq: record.seq, hash: record.hash } }));
      report({ entries: batch.length, ok: true, durationMs: performance.now() - started, ...(signed && { checkpointSeq: prev.seq }) });
      return true;
    } catch (cause) {
      // The COMMIT may or may not have happened: forget the head and read it back, under the chain lock, next time.
      head = undefined;
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
  const uncheckpointed = () => head === undefined || head.seq > (checkpointSeq ?? 0);

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
        const signedAt = now();
        const final = await db.transaction().execute(async (trx) => {
          await begin(trx);
          // Before the role is assumed: the writer role may not touch gateway_instances.
          await trx.updateTable('gateway_instances').set({ stopped_at: signedAt }).where('id', '=', chainId).where('stopped_at', 'is', null).execute();
          await assumeRole(trx);
          const at = head ?? (await readHead(trx)).head;
          await insertCheckpoint(trx, at, signedAt, true);
          return at;
        });
        head = final;
        checkpointSeq = final.seq;
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
    status: () => ({
      chainId,
      queued: queue.filter((pending) => !pending.done).length,
      committedSeq: head?.seq,
      checkpointSeq,
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

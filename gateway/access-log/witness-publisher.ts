import type { Kysely } from 'kysely';
import type { StoreSchema } from '../store/store-schema.ts';
import type { TreeCheckpoint } from './log-tree-checkpoint.ts';
import { treeCheckpointOf } from './log-tree-checkpoint.ts';
import { proveConsistency } from './log-tree-store.ts';
import { addCheckpoint, DEFAULT_WITNESS_REQUEST_TIMEOUT_MS } from './witness-client.ts';
import type { WitnessConfig } from './witness-config.ts';

/** First wait after a witness failed; doubled on each failure in a row. */
export const DEFAULT_WITNESS_RETRY_MIN_MS = 250;
/** Longest wait between two tries: a witness back from an outage is found within this. */
export const DEFAULT_WITNESS_RETRY_MAX_MS = 30_000;
/** How long `close()` lets the final checkpoint reach the witnesses before it stops trying. */
export const DEFAULT_WITNESS_CLOSE_WAIT_MS = 3_000;

/** One witness as the publisher sees it, for `/readyz` and metrics. */
export interface WitnessStatus {
  readonly name: string;
  readonly url: string;
  /** The number and size of the last checkpoint of this chain it cosigned; undefined before the first. */
  readonly cosignedNumber: number | undefined;
  readonly cosignedSize: number | undefined;
  /** The code of the last failure, cleared by the next cosignature. */
  readonly lastError: string | undefined;
}

/** The latest checkpoint of the chain that a quorum of witnesses cosigned. */
export interface WitnessCoverage {
  readonly number: number;
  readonly size: number;
}

/** Options of {@link createWitnessPublisher}; the timings default to the named constants. */
export interface WitnessPublisherOptions {
  readonly db: Kysely<StoreSchema>;
  readonly chainId: string;
  readonly witnesses: readonly WitnessConfig[];
  /** How many distinct witnesses make a checkpoint count; default all. */
  readonly quorum?: number;
  readonly requestTimeoutMs?: number;
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
  readonly closeWaitMs?: number;
  readonly now?: () => Date;
  /** Called when the quorum-cosigned checkpoint moves forward. Must not throw. */
  readonly onCoverage?: (coverage: WitnessCoverage) => void;
  /** Called on every failure to reach or convince a witness (already retried with backoff). Must not throw. */
  readonly onWitnessError?: (witness: string, error: { readonly code: string; readonly message: string }) => void;
}

/** Sends the chain's checkpoints to its witnesses, in order, and stores their cosignatures. */
export interface WitnessPublisher {
  /** The writer committed a checkpoint: send it (asynchronously; never blocks the caller). */
  notify(checkpoint: TreeCheckpoint): void;
  /** Resolves true once checkpoint `number` (or a later one) is quorum-cosigned, false after `timeoutMs`. */
  waitForCoverage(number: number, timeoutMs: number): Promise<boolean>;
  coverage(): WitnessCoverage | undefined;
  status(): readonly WitnessStatus[];
  /** Lets what is in flight finish (bounded by `closeWaitMs`), then stops. */
  close(): Promise<void>;
}

interface WitnessState {
  readonly config: WitnessConfig;
  next: number;
  old: number;
  cosignedNumber: number | undefined;
  cosignedSize: number | undefined;
  lastError: string | undefined;
  failures: number;
  running: Promise<void> | undefined;
  loaded: boolean;
  wake: (() => void) | undefined;
}

/**
 * Creates the publisher. Each witness has one loop that sends checkpoint
 * `next` with `old` = the size of the last one it cosigned (a witness wants
 * them in order: each names the one before) and the consistency proof from
 * the database, stores the cosignature, and moves on; a 409 teaches it the
 * witness's size; failures back off (bounded) and retry forever, as a
 * witness may come back. Nothing here blocks a request: the evidence gate
 * is what turns a long silence into refusals.
 *
 * @example
 * const publisher = createWitnessPublisher({ db, chainId, witnesses, onCoverage: (c) => gate.covered(c.size) });
 * const writer = createAccessLogWriter({ …, onCheckpoint: (c) => publisher.notify(c) });
 */
export function createWitnessPublisher(options: WitnessPublisherOptions): WitnessPublisher {
  const { db, chainId } = options;
  const quorum = options.quorum ?? options.witnesses.length;
  if (!Number.isSafeInteger(quorum) || quorum < 1 || quorum > options.witnesses.length) throw new TypeError('createWitnessPublisher: quorum must be from 1 to the number of witnesses');
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_WITNESS_REQUEST_TIMEOUT_MS;
  const retryMinMs = options.retryMinMs ?? DEFAULT_WITNESS_RETRY_MIN_MS;
  const retryMaxMs = options.retryMaxMs ?? DEFAULT_WITNESS_RETRY_MAX_MS;
  const now = options.now ?? (() => new Date());
  const known = new Map<number, TreeCheckpoint>();
  const stop = new AbortController();
  let covered: WitnessCoverage | undefined;
  const waiters = new Set<() => void>();

  const states: WitnessState[] = options.witnesses.map((config) => ({ config, next: 0, old: 0, cosignedNumber: undefined, cosignedSize: undefined, lastError: undefined, failures: 0, running: undefined, wake: undefined, loaded: false }));

  const checkpointAt = async (number: number): Promise<TreeCheckpoint | undefined> => {
    const cached = known.get(number);
    if (cached) return cached;
    const row = await db.selectFrom('access_log_tree_checkpoints').selectAll().where('chain_id', '=', chainId).where('number', '=', number).executeTakeFirst();
    if (!row) return undefined;
    const checkpoint = treeCheckpointOf(row);
    known.set(number, checkpoint);
    return checkpoint;
  };

  const recompute = () => {
    // Each witness cosigns the chain's checkpoints in order, so it has cosigned every number up to its own.
    const numbers = states.map((state) => state.cosignedNumber ?? -1).sort((a, b) => b - a);
    const number = numbers[quorum - 1]!;
    if (number < 0 || (covered && covered.number >= number)) return;
    const size = known.get(number)?.size ?? states.find((state) => state.cosignedNumber === number)!.cosignedSize!;
    covered = { number, size };
    for (const [key] of known) if (key < Math.min(...numbers.map((n) => Math.max(n, 0)))) known.delete(key);
    try {
      options.onCoverage?.(covered);
    } catch {
      // A hook must not stop the publisher.
    }
    for (const waiter of waiters) waiter();
  };

  const fail = (state: WitnessState, code: string, message: string) => {
    state.failures += 1;
    state.lastError = code;
    try {
      options.onWitnessError?.(state.config.name, { code, message });
    } catch {
      // As above.
    }
  };

  const pause = (state: WitnessState, ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        state.wake = undefined;
        stop.signal.removeEventListener('abort', done);
        resolve();
      }
      state.wake = done;
      stop.signal.addEventListener('abort', done, { once: true });
    });

  /** Where a witness stands, as stored: a publisher that restarted on a chain goes on after its last cosignature. */
  const load = async (state: WitnessState) => {
    const row = await db
      .selectFrom('access_log_cosignatures as s')
      .innerJoin('access_log_tree_checkpoints as c', (join) => join.onRef('c.chain_id', '=', 's.chain_id').onRef('c.number', '=', 's.number'))
      .select(['c.number', 'c.size'])
      .where('s.chain_id', '=', chainId)
      .where('s.witness', '=', state.config.name)
      .orderBy('c.number', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (row) Object.assign(state, { next: row.number + 1, old: Number(row.size), cosignedNumber: row.number, cosignedSize: Number(row.size) });
    state.loaded = true;
    if (row) recompute();
  };

  /** After a 409: the witness is at `size`; go on after the latest checkpoint of that size. */
  const learn = async (state: WitnessState, size: number) => {
    const row = await db.selectFrom('access_log_tree_checkpoints').select('number').where('chain_id', '=', chainId).where('size', '=', size).orderBy('number', 'desc').limit(1).executeTakeFirst();
    state.old = size;
    if (row && row.number + 1 > state.next) state.next = row.number + 1;
  };

  const run = async (state: WitnessState) => {
    let conflicts = 0;
    while (!stop.signal.aborted) {
      if (!state.loaded) {
        try {
          await load(state);
        } catch {
          await pause(state, retryMinMs);
          continue;
        }
      }
      const checkpoint = await checkpointAt(state.next).catch(() => undefined);
      if (checkpoint === undefined) return;
      try {
        const proof = await proveConsistency(db, chainId, Math.min(state.old, checkpoint.size), checkpoint.size);
        const answer = await addCheckpoint(state.config, { old: state.old, proof, note: checkpoint.note }, { timeoutMs, signal: stop.signal });
        if (answer.kind === 'cosigned') {
          await db
            .insertInto('access_log_cosignatures')
            .values({ chain_id: chainId, number: checkpoint.number, witness: state.config.name, signature: answer.signature, cosigned_at: now() })
            .onConflict((conflict) => conflict.doNothing())
            .execute();
          Object.assign(state, { next: checkpoint.number + 1, old: checkpoint.size, cosignedNumber: checkpoint.number, cosignedSize: checkpoint.size, lastError: undefined, failures: 0 });
          conflicts = 0;
          recompute();
          continue;
        }
        if (answer.kind === 'size-mismatch' && conflicts++ === 0) {
          // The witness knows another size than we do (a cosignature we did not store): go on from there.
          await learn(state, answer.size);
          continue;
        }
        fail(state, answer.kind === 'refused' ? answer.code : 'WITNESS_SIZE_MISMATCH', answer.kind === 'refused' ? `${answer.status}: ${answer.message}` : `the witness is at size ${answer.size}`);
      } catch (error) {
        if (stop.signal.aborted) return;
        const coded = error as { code?: unknown; message?: unknown };
        fail(state, typeof coded.code === 'string' ? coded.code : 'WITNESS_PUBLISH_FAILED', typeof coded.message === 'string' ? coded.message : 'publishing failed');
      }
      conflicts = 0;
      await pause(state, Math.min(retryMaxMs, retryMinMs * 2 ** Math.min(state.failures - 1, 20)));
    }
  };

  const kick = (state: WitnessState) => {
    if (stop.signal.aborted) return;
    if (state.running) return;
    state.running = run(state).finally(() => {
      state.running = undefined;
      // A checkpoint that arrived while the loop was finishing.
      if (!stop.signal.aborted && known.has(state.next)) kick(state);
    });
  };

  return {
    notify(checkpoint) {
      if (checkpoint.chainId !== chainId) return;
      known.set(checkpoint.number, checkpoint);
      for (const state of states) kick(state);
    },
    waitForCoverage(number, waitMs) {
      if (covered && covered.number >= number) return Promise.resolve(true);
      return new Promise((resolve) => {
        const check = () => {
          if (!covered || covered.number < number) return;
          finish(true);
        };
        const timer = setTimeout(() => finish(false), waitMs);
        function finish(value: boolean) {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(value);
        }
        waiters.add(check);
      });
    },
    coverage: () => covered,
    status: () =>
      states.map((state) => ({ name: state.config.name, url: state.config.url, cosignedNumber: state.cosignedNumber, cosignedSize: state.cosignedSize, lastError: state.lastError })),
    async close() {
      const last = Math.max(-1, ...known.keys());
      if (last >= 0) await this.waitForCoverage(last, options.closeWaitMs ?? DEFAULT_WITNESS_CLOSE_WAIT_MS);
      stop.abort();
      await Promise.all(states.map((state) => state.running));
    },
  };
}

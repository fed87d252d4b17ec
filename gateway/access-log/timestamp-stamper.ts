import type { Kysely } from 'kysely';
import type { StoreSchema } from '../store/store-schema.ts';
import type { TimestampSettings } from './timestamp-settings.ts';
import { stampLatestCheckpoint, type StoredTimestamp } from './timestamp-store.ts';

/** How long {@link CheckpointStamper.close} waits for a stamp in flight before aborting it. */
export const DEFAULT_STAMPER_CLOSE_WAIT_MS = 2_000;

/** What {@link createCheckpointStamper} needs. */
export interface CheckpointStamperOptions {
  readonly db: Kysely<StoreSchema>;
  readonly settings: TimestampSettings;
  /** A stamp that failed (`TIMESTAMP_*` codes, or the store's errors): log it; the next request retries with a newer checkpoint. */
  readonly onError?: (error: unknown, chainId: string) => void;
  readonly onStamped?: (stamp: StoredTimestamp) => void;
  readonly closeWaitMs?: number;
}

/** Stamps checkpoints in the background, one exchange with the TSA at a time per chain. */
export interface CheckpointStamper {
  /**
   * Asks for the chain's latest checkpoint to be stamped, and returns at
   * once. Requests made while a stamp is running fold into one more run, so
   * a slow TSA never has more than one exchange per chain in flight.
   */
  request(chainId: string): void;
  /** Resolves once nothing is running or queued. */
  idle(): Promise<void>;
  /** Refuses further requests; waits up to `closeWaitMs` for a stamp in flight (e.g. the final checkpoint's), then aborts it. */
  close(): Promise<void>;
}

/**
 * The writer's side of timestamping: after a checkpoint commits, the writer
 * calls `request(chainId)`; no request of a client ever waits for a TSA.
 *
 * @example
 * const stamper = tsa && createCheckpointStamper({ db: store.db, settings: tsa, onError: (error) => log.warn({ code: codeOf(error) }, 'checkpoint not timestamped') });
 * stamper?.request(chainId); // after each checkpoint's commit
 * await stamper?.close();    // at shutdown, after the final checkpoint's request
 */
export function createCheckpointStamper(options: CheckpointStamperOptions): CheckpointStamper {
  const running = new Map<string, Promise<void>>();
  const again = new Set<string>();
  const abort = new AbortController();
  let closed = false;

  const run = (chainId: string): void => {
    const task = (async () => {
      do {
        again.delete(chainId);
        try {
          const stamp = await stampLatestCheckpoint({ db: options.db, settings: options.settings, chainId, signal: abort.signal });
          if (stamp) options.onStamped?.(stamp);
        } catch (error) {
          options.onError?.(error, chainId);
        }
      } while (again.has(chainId) && !abort.signal.aborted);
    })().finally(() => running.delete(chainId));
    running.set(chainId, task);
  };

  const idle = async (): Promise<void> => {
    while (running.size > 0) await Promise.all(running.values());
  };

  return {
    request(chainId) {
      if (closed) return;
      if (running.has(chainId)) again.add(chainId);
      else run(chainId);
    },
    idle,
    async close() {
      closed = true;
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, options.closeWaitMs ?? DEFAULT_STAMPER_CLOSE_WAIT_MS);
      });
      await Promise.race([idle(), waited]);
      clearTimeout(timer);
      abort.abort();
      await idle();
    },
  };
}

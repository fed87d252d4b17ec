/** Options of {@link createConcurrencyLimiter}; checked by the guard that owns it. */
export interface ConcurrencyLimiterOptions {
  /** Slots in use at once. */
  readonly maxConcurrency: number;
  /** Waiters beyond which {@link ConcurrencyLimiter.acquire} refuses at once. */
  readonly maxQueue: number;
}

/** Gives back a slot; calling it twice is harmless. */
export type ReleaseSlot = () => void;

/** Why {@link ConcurrencyLimiter.acquire} returned no slot. */
export type AcquireRefusal = 'overloaded' | 'aborted';

/** A counting semaphore with a bounded FIFO queue. */
export interface ConcurrencyLimiter {
  /**
   * A slot, or why there is none: `overloaded` when the queue is full, `aborted`
   * when `signal` aborted while waiting (the waiter then leaves the queue, so an
   * abandoned wait never takes a slot later).
   */
  acquire(signal: AbortSignal): Promise<ReleaseSlot | AcquireRefusal>;
  /** Slots in use. */
  active(): number;
  /** Calls waiting for a slot. */
  queued(): number;
}

interface Waiter {
  readonly grant: (release: ReleaseSlot) => void;
}

/**
 * Creates a concurrency limiter. Waiters are served first in, first out, so a
 * burst cannot starve an earlier call.
 *
 * @example
 * const slot = await limiter.acquire(signal);
 * if (typeof slot === 'string') throw new UpstreamUnavailableError(bureau, 'overloaded');
 * try { return await call(); } finally { slot(); }
 */
export function createConcurrencyLimiter(options: ConcurrencyLimiterOptions): ConcurrencyLimiter {
  const { maxConcurrency, maxQueue } = options;
  let inUse = 0;
  // A Set keeps insertion order and deletes in O(1), which an aborted waiter needs.
  const waiters = new Set<Waiter>();

  function slot(): ReleaseSlot {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = waiters.values().next();
      if (next.done) {
        inUse -= 1;
        return;
      }
      // Hand the slot straight to the next waiter: `inUse` stays the same.
      waiters.delete(next.value);
      next.value.grant(slot());
    };
  }

  return {
    active: () => inUse,
    queued: () => waiters.size,
    acquire(signal) {
      if (signal.aborted) return Promise.resolve('aborted');
      if (inUse < maxConcurrency) {
        inUse += 1;
        return Promise.resolve(slot());
      }
      if (waiters.size >= maxQueue) return Promise.resolve('overloaded');
      return new Promise((resolve) => {
        const onAbort = (): void => {
          waiters.delete(waiter);
          resolve('aborted');
        };
        const waiter: Waiter = {
          grant(release) {
            signal.removeEventListener('abort', onAbort);
            resolve(release);
          },
        };
        waiters.add(waiter);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}

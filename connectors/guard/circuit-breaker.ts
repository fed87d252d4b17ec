import type { BreakerState } from '../connector.ts';

/** Options of {@link createCircuitBreaker}; checked by the guard that owns it. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker. */
  readonly failureThreshold: number;
  /** How long the breaker stays open before one trial call is let through. */
  readonly resetAfterMs: number;
  /** A monotonic clock in milliseconds; a parameter so tests can move time. */
  readonly now: () => number;
}

/**
 * Permission to make one upstream call. Exactly one of its methods must be
 * called once the call has settled, so a half-open trial is always released.
 */
export interface BreakerPermit {
  /** The bureau answered (a 404 or a refused request included). */
  success(): void;
  /** The bureau failed: network error, 5xx, timeout. */
  failure(): void;
  /** The call says nothing about the bureau (the caller aborted, the queue was full). */
  neutral(): void;
}

/** A circuit breaker: the state machine only, no timers and no I/O. */
export interface CircuitBreaker {
  state(): BreakerState;
  /** A permit for one call, or `undefined` when the breaker rejects it. */
  tryAcquire(): BreakerPermit | undefined;
}

/**
 * Creates a circuit breaker.
 *
 * `closed` lets every call through and counts consecutive failures;
 * `failureThreshold` of them open it. `open` rejects every call until
 * `resetAfterMs` have passed, then it is `half-open`: exactly one trial call
 * goes through while the others are still rejected; the trial's success closes
 * the breaker, its failure opens it for another `resetAfterMs`.
 *
 * @example
 * const breaker = createCircuitBreaker({ failureThreshold: 5, resetAfterMs: 10_000, now: performance.now.bind(performance) });
 * const permit = breaker.tryAcquire();
 * if (!permit) throw new UpstreamUnavailableError(bureau, 'breaker-open');
 */
export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  const { failureThreshold, resetAfterMs, now } = options;
  let consecutiveFailures = 0;
  let openedAt: number | undefined;
  let trialInFlight = false;

  function state(): BreakerState {
    if (openedAt === undefined) return 'closed';
    return now() - openedAt >= resetAfterMs ? 'half-open' : 'open';
  }

  function open(): void {
    openedAt = now();
    consecutiveFailures = 0;
  }

  function close(): void {
    openedAt = undefined;
    consecutiveFailures = 0;
  }

  function closedPermit(): BreakerPermit {
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      return true;
    };
    return {
      success() {
        if (settle()) consecutiveFailures = 0;
      },
      failure() {
        if (!settle()) return;
        // A call that began while closed may end after a trial re-opened the
        // breaker; it must not restart the open period or count twice.
        if (openedAt !== undefined) return;
        consecutiveFailures += 1;
        if (consecutiveFailures >= failureThreshold) open();
      },
      neutral() {
        settle();
      },
    };
  }

  function trialPermit(): BreakerPermit {
    trialInFlight = true;
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      trialInFlight = false;
      return true;
    };
    return {
      success() {
        if (settle()) close();
      },
      failure() {
        if (settle()) open();
      },
      // The trial told us nothing, so the next call may try again at once.
      neutral() {
        settle();
      },
    };
  }

  return {
    state,
    tryAcquire() {
      switch (state()) {
        case 'closed':
          return closedPermit();
        case 'open':
          return undefined;
        case 'half-open':
          return trialInFlight ? undefined : trialPermit();
      }
    },
  };
}

import type { BreakerState, ConnectorLimits, UpstreamCall, UpstreamObserver } from '../connector.ts';
import { ConnectorConfigError, ConnectorError, UpstreamUnavailableError } from '../connector-error.ts';
import { createCircuitBreaker, type BreakerPermit } from './circuit-breaker.ts';
import { createConcurrencyLimiter, type ReleaseSlot } from './concurrency-limiter.ts';

/**
 * Calls that may wait for a slot, per slot. A queue longer than this would
 * only hold callers until they time out; refusing them at once (`overloaded`)
 * gives their time back to the rest of the query.
 */
export const DEFAULT_QUEUE_PER_SLOT = 16;

/** Options of {@link createUpstreamGuard}. */
export interface UpstreamGuardOptions {
  /** The bureau's id; every error names it. */
  readonly bureau: string;
  readonly limits: ConnectorLimits;
  /** Receives every call's outcome and duration. */
  readonly observe?: UpstreamObserver;
  /** A monotonic clock in milliseconds (default `performance.now`); tests pass their own. */
  readonly now?: () => number;
  /** Calls that may wait for a slot; default `maxConcurrency × DEFAULT_QUEUE_PER_SLOT`. */
  readonly maxQueue?: number;
}

/** Bounds every upstream call of one bureau in time and concurrency, behind a circuit breaker. */
export interface UpstreamGuard {
  /**
   * Runs `call` under the bureau's limits.
   *
   * `call` receives a signal that aborts when `limits.timeoutMs` (counted from
   * this `run`, so queueing is included) passes or `signal` aborts; it should
   * stop its I/O then. The returned promise settles within `timeoutMs` even if
   * `call` ignores its signal.
   *
   * Rejects with {@link UpstreamUnavailableError} (`timeout`, `breaker-open`,
   * `overloaded`, or `failed` with the original error as `cause`), with a
   * {@link ConnectorError} that `call` threw, or with `signal.reason` when the
   * caller aborted. Only failures of the bureau count against the breaker:
   * errors, 5xx and timeouts do; a `ConnectorError` other than
   * `UpstreamUnavailableError` (the bureau answered but refused) and the
   * caller's abort do not.
   */
  run<T>(call: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** The breaker's state now. */
  state(): BreakerState;
  /**
   * Refuses new calls and resolves once the calls already started have
   * settled, which each does within its timeout plus the abandon grace.
   */
  close(): Promise<void>;
}

/** Why a call ended, as the guard classifies it. */
type Verdict = { readonly outcome: UpstreamCall['outcome']; readonly breaker: keyof BreakerPermit };

function positiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

function checkOptions(options: UpstreamGuardOptions): void {
  const { bureau, limits } = options;
  if (typeof bureau !== 'string' || bureau === '') {
    throw new ConnectorConfigError(String(bureau), 'the bureau id must be a non-empty string');
  }
  const problems: string[] = [];
  if (!positiveInteger(limits?.timeoutMs)) problems.push('timeoutMs');
  if (!positiveInteger(limits?.maxConcurrency)) problems.push('maxConcurrency');
  if (!positiveInteger(limits?.breaker?.failureThreshold)) problems.push('breaker.failureThreshold');
  if (!positiveInteger(limits?.breaker?.resetAfterMs)) problems.push('breaker.resetAfterMs');
  if (options.maxQueue !== undefined && !(Number.isInteger(options.maxQueue) && options.maxQueue >= 0)) {
    problems.push('maxQueue');
  }
  if (problems.length > 0) {
    throw new ConnectorConfigError(bureau, `connector limits must be positive integers: ${problems.join(', ')}`);
  }
}

/**
 * Creates the guard that every upstream call of one bureau goes through.
 *
 * @example
 * const guard = createUpstreamGuard({ bureau: 'market-supervision', limits, observe });
 * const body = await guard.run((signal) => http.get(path, { signal }), info.signal);
 */
export function createUpstreamGuard(options: UpstreamGuardOptions): UpstreamGuard {
  checkOptions(options);
  const { bureau, limits, observe } = options;
  const now = options.now ?? (() => performance.now());
  const breaker = createCircuitBreaker({ ...limits.breaker, now });
  const limiter = createConcurrencyLimiter({
    maxConcurrency: limits.maxConcurrency,
    maxQueue: options.maxQueue ?? limits.maxConcurrency * DEFAULT_QUEUE_PER_SLOT,
  });

  let closing = false;
  // Calls started and not yet settled upstream; close() waits for them.
  let busy = 0;
  let whenIdle: (() => void) | undefined;
  let idle: Promise<void> | undefined;
  const leave = (): void => {
    busy -= 1;
    if (busy === 0) whenIdle?.();
  };

  function report(outcome: UpstreamCall['outcome'], startedAt: number): void {
    if (!observe) return;
    try {
      observe({ bureau, outcome, durationMs: now() - startedAt });
    } catch {
      // Metrics must never turn an answer into an error.
    }
  }

  /**
   * Holds the slot until `settled` does, so `maxConcurrency` bounds the work
   * really in flight at the bureau, not just the callers still waiting; but no
   * longer than `timeoutMs` after the guard gave up, so a call that ignores its
   * signal cannot take a slot away for good.
   */
  function releaseWhenSettled(settled: Promise<unknown>, gaveUp: AbortSignal, release: ReleaseSlot): void {
    let released = false;
    let grace: ReturnType<typeof setTimeout> | undefined;
    const done = (): void => {
      if (released) return;
      released = true;
      if (grace !== undefined) clearTimeout(grace);
      gaveUp.removeEventListener('abort', startGrace);
      release();
    };
    function startGrace(): void {
      grace = setTimeout(done, limits.timeoutMs);
      grace.unref();
    }
    settled.then(done, done);
    if (gaveUp.aborted) startGrace();
    else gaveUp.addEventListener('abort', startGrace, { once: true });
  }

  async function run<T>(call: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const startedAt = now();
    if (closing) {
      report('rejected', startedAt);
      throw new UpstreamUnavailableError(bureau, 'failed', { cause: new Error('the connector is closed') });
    }
    if (signal?.aborted) {
      report('aborted', startedAt);
      throw signal.reason;
    }
    const permit = breaker.tryAcquire();
    if (!permit) {
      report('rejected', startedAt);
      throw new UpstreamUnavailableError(bureau, 'breaker-open');
    }

    busy += 1;
    let gaveUp: 'timeout' | 'caller' | undefined;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      gaveUp ??= 'timeout';
      controller.abort(new DOMException(`${bureau} did not answer within ${limits.timeoutMs} ms`, 'TimeoutError'));
    }, limits.timeoutMs);
    const onCallerAbort = (): void => {
      gaveUp ??= 'caller';
      controller.abort(signal?.reason);
    };
    signal?.addEventListener('abort', onCallerAbort, { once: true });
    let holdsBusy = true;

    const finish = (verdict: Verdict): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onCallerAbort);
      permit[verdict.breaker]();
      report(verdict.outcome, startedAt);
    };

    try {
      const slot = await limiter.acquire(controller.signal);
      if (slot === 'overloaded') {
        // Our own load, not the bureau's health: shed it without blaming the bureau.
        finish({ outcome: 'rejected', breaker: 'neutral' });
        throw new UpstreamUnavailableError(bureau, 'overloaded');
      }
      if (slot === 'aborted') {
        // A timeout in the queue counts like any other: the queue only grows
        // when calls in flight hold their slots, and with one slot (a PGlite
        // bureau) the queued calls are how a slow bureau shows itself.
        if (gaveUp === 'timeout') {
          finish({ outcome: 'timeout', breaker: 'failure' });
          throw new UpstreamUnavailableError(bureau, 'timeout');
        }
        finish({ outcome: 'aborted', breaker: 'neutral' });
        throw signal?.reason;
      }

      const settled = Promise.resolve().then(() => call(controller.signal));
      holdsBusy = false;
      releaseWhenSettled(settled, controller.signal, () => {
        slot();
        leave();
      });
      const abandoned = new Promise<never>((_, reject) => {
        if (controller.signal.aborted) reject(controller.signal.reason);
        controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
      });
      // The loser of the race must not surface as an unhandled rejection.
      abandoned.catch(() => {});

      let value: T;
      try {
        value = await Promise.race([settled, abandoned]);
      } catch (error) {
        if (gaveUp === 'timeout') {
          finish({ outcome: 'timeout', breaker: 'failure' });
          throw new UpstreamUnavailableError(bureau, 'timeout', { cause: error });
        }
        if (gaveUp === 'caller') {
          finish({ outcome: 'aborted', breaker: 'neutral' });
          throw signal?.reason;
        }
        if (error instanceof ConnectorError && !(error instanceof UpstreamUnavailableError)) {
          // The bureau answered and refused: it is up, so this is a success for the breaker.
          finish({ outcome: 'error', breaker: 'success' });
          throw error;
        }
        finish({ outcome: 'error', breaker: 'failure' });
        if (error instanceof UpstreamUnavailableError) throw error;
        throw new UpstreamUnavailableError(bureau, 'failed', { cause: error });
      }
      finish({ outcome: 'ok', breaker: 'success' });
      return value;
    } finally {
      if (holdsBusy) leave();
    }
  }

  return {
    run,
    state: () => breaker.state(),
    close() {
      closing = true;
      idle ??= busy === 0 ? Promise.resolve() : new Promise<void>((resolve) => (whenIdle = resolve));
      return idle;
    },
  };
}

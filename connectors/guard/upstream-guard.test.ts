import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConnectorLimits, UpstreamCall } from '../connector.ts';
import {
  ConnectorConfigError,
  UpstreamRejectedError,
  UpstreamUnavailableError,
} from '../connector-error.ts';
import { createUpstreamGuard, type UpstreamGuardOptions } from './upstream-guard.ts';

const BUREAU = 'test-bureau';

function limits(overrides: Partial<Omit<ConnectorLimits, 'breaker'>> & Partial<ConnectorLimits['breaker']> = {}): ConnectorLimits {
  return {
    timeoutMs: overrides.timeoutMs ?? 1_000,
    maxConcurrency: overrides.maxConcurrency ?? 4,
    breaker: {
      failureThreshold: overrides.failureThreshold ?? 3,
      resetAfterMs: overrides.resetAfterMs ?? 10_000,
    },
  };
}

/** A clock the test moves by hand, so breaker periods need no sleeping. */
function manualClock() {
  let time = 1_000;
  return { now: () => time, advance: (ms: number) => void (time += ms) };
}

function deferred<T = string>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function setup(options: Partial<UpstreamGuardOptions> = {}) {
  const clock = manualClock();
  const calls: UpstreamCall[] = [];
  const guard = createUpstreamGuard({
    bureau: BUREAU,
    limits: limits(),
    now: clock.now,
    observe: (call) => calls.push(call),
    ...options,
  });
  return { guard, clock, calls };
}

/** Lets queued promise callbacks run. */
const flush = () => new Promise((resolve) => setImmediate(resolve));

const failing = () => Promise.reject(new Error('ECONNREFUSED 10.0.0.1:5432'));

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('createUpstreamGuard', () => {
  it('returns the answer and reports the call with its duration', async () => {
    const { guard, clock, calls } = setup();
    const answer = await guard.run(async () => {
      clock.advance(42);
      return 'answer';
    });
    expect(answer).toBe('answer');
    expect(calls).toEqual([{ bureau: BUREAU, outcome: 'ok', durationMs: 42 }]);
  });

  it('checks its limits up front', () => {
    expect(() => createUpstreamGuard({ bureau: BUREAU, limits: limits({ timeoutMs: 0 }) })).toThrow(ConnectorConfigError);
    expect(() => createUpstreamGuard({ bureau: BUREAU, limits: limits({ maxConcurrency: 1.5 }) })).toThrow(/maxConcurrency/);
    expect(() => createUpstreamGuard({ bureau: '', limits: limits() })).toThrow(ConnectorConfigError);
  });

  describe('timeout', () => {
    // Some tests here run on timers they move themselves; a failed one must not leave them to the next.
    afterEach(() => {
      vi.useRealTimers();
    });

    it('aborts the call and rejects with timeout', async () => {
      const { guard, calls } = setup({ limits: limits({ timeoutMs: 20 }) });
      let seen: AbortSignal | undefined;
      const error = await failureOf(
        guard.run(
          (signal) =>
            new Promise((_, reject) => {
              seen = signal;
              signal.addEventListener('abort', () => reject(signal.reason));
            }),
        ),
      );
      expect(error).toBeInstanceOf(UpstreamUnavailableError);
      expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', bureau: BUREAU, failure: 'timeout' });
      expect(seen?.aborted).toBe(true);
      expect(calls.map((call) => call.outcome)).toEqual(['timeout']);
    });

    it('returns on time even when the call ignores its signal', async () => {
      // On timers the test moves: "on time" is timeoutMs of the guard's own timer, whatever the machine's load.
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const { guard } = setup({ limits: limits({ timeoutMs: 20 }) });
      let settled = false;
      const error = failureOf(guard.run(() => new Promise(() => {}))).finally(() => (settled = true));
      await vi.advanceTimersByTimeAsync(19);
      await flush();
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await flush();
      expect(settled).toBe(true);
      expect(await error).toMatchObject({ failure: 'timeout' });
    });

    it('keeps the slot of a timed-out call until the call settles, and close() still finishes', async () => {
      // Moved by hand so that the grace (timeoutMs after giving up) cannot run out while the test looks.
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const { guard } = setup({ limits: limits({ timeoutMs: 20, maxConcurrency: 1 }) });
      const late = deferred();
      let gaveUp = false;
      const first = failureOf(guard.run(() => late.promise)).finally(() => (gaveUp = true));
      await vi.advanceTimersByTimeAsync(20);
      await flush();
      expect(gaveUp).toBe(true);
      expect(await first).toMatchObject({ failure: 'timeout' });
      let secondCalled = false;
      const second = guard.run(async () => {
        secondCalled = true;
        return 'second';
      });
      await flush();
      expect(secondCalled).toBe(false);
      late.resolve('too late');
      expect(await second).toBe('second');
      await guard.close();
    });

    it('frees the slot of a call that never settles, timeoutMs after giving up on it', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const { guard } = setup({ limits: limits({ timeoutMs: 20, maxConcurrency: 1 }) });
      let gaveUp = false;
      const first = failureOf(guard.run(() => new Promise(() => {}))).finally(() => (gaveUp = true));
      await vi.advanceTimersByTimeAsync(20);
      await flush();
      expect(gaveUp).toBe(true);
      expect(await first).toMatchObject({ failure: 'timeout' });
      // The guard gave up at 20 ms; the slot stays taken for a grace of timeoutMs, until 40 ms.
      await vi.advanceTimersByTimeAsync(10);
      let started = false;
      const next = guard.run(async () => {
        started = true;
        return 'next';
      });
      await vi.advanceTimersByTimeAsync(9);
      await flush();
      expect(started).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await flush();
      expect(started).toBe(true);
      expect(await next).toBe('next');
      await guard.close();
    });

    it('counts the time spent queueing, and a timeout in the queue as a failure', async () => {
      const { guard, calls } = setup({ limits: limits({ timeoutMs: 30, maxConcurrency: 1, failureThreshold: 2 }) });
      const first = deferred();
      // Times out too, while the second call waits; catch it from the start.
      const running = failureOf(guard.run(() => first.promise));
      let secondCalled = false;
      const error = await failureOf(
        guard.run(async () => {
          secondCalled = true;
          return 'late';
        }),
      );
      expect(error).toMatchObject({ failure: 'timeout' });
      expect(secondCalled).toBe(false);
      first.resolve('first');
      expect(await running).toMatchObject({ failure: 'timeout' });
      expect(calls.map((call) => call.outcome)).toEqual(['timeout', 'timeout']);
      expect(guard.state()).toBe('open');
    });
  });

  describe('concurrency', () => {
    it('runs at most maxConcurrency calls at once and serves the queue in order', async () => {
      const { guard } = setup({ limits: limits({ maxConcurrency: 2 }) });
      const started: number[] = [];
      const gates = [0, 1, 2, 3, 4].map(() => deferred());
      const runs = gates.map((gate, index) =>
        guard.run(() => {
          started.push(index);
          return gate.promise;
        }),
      );
      await flush();
      expect(started).toEqual([0, 1]);
      gates[1]!.resolve('one');
      await flush();
      expect(started).toEqual([0, 1, 2]);
      gates[0]!.resolve('zero');
      await flush();
      expect(started).toEqual([0, 1, 2, 3]);
      for (const gate of gates) gate.resolve('done');
      expect(await Promise.all(runs)).toEqual(['zero', 'one', 'done', 'done', 'done']);
    });

    it('refuses at once, without calling, when the queue is full', async () => {
      const { guard, calls } = setup({ limits: limits({ maxConcurrency: 1 }), maxQueue: 1 });
      const gate = deferred();
      const first = guard.run(() => gate.promise);
      const second = guard.run(() => Promise.resolve('second'));
      let thirdCalled = false;
      const error = await failureOf(
        guard.run(async () => {
          thirdCalled = true;
        }),
      );
      expect(error).toMatchObject({ failure: 'overloaded', bureau: BUREAU });
      expect(thirdCalled).toBe(false);
      gate.resolve('first');
      expect(await first).toBe('first');
      expect(await second).toBe('second');
      expect(calls.map((call) => call.outcome)).toEqual(['rejected', 'ok', 'ok']);
      expect(guard.state()).toBe('closed');
    });
  });

  describe('circuit breaker', () => {
    it('opens after failureThreshold failures, rejects without calling, then lets one trial through', async () => {
      const { guard, clock, calls } = setup({ limits: limits({ failureThreshold: 3, resetAfterMs: 5_000 }) });
      for (let i = 0; i < 3; i += 1) {
        const error = await failureOf(guard.run(failing));
        expect(error).toMatchObject({ failure: 'failed' });
      }
      expect(guard.state()).toBe('open');

      let called = 0;
      const rejected = await failureOf(guard.run(async () => void (called += 1)));
      expect(rejected).toMatchObject({ failure: 'breaker-open', bureau: BUREAU });
      expect(called).toBe(0);
      expect(calls.at(-1)?.outcome).toBe('rejected');

      clock.advance(4_999);
      expect(guard.state()).toBe('open');
      clock.advance(1);
      expect(guard.state()).toBe('half-open');

      // One trial only: a second call while the trial is out is still rejected.
      const trialGate = deferred();
      const trial = guard.run(() => trialGate.promise);
      await flush();
      expect(await failureOf(guard.run(async () => void (called += 1)))).toMatchObject({ failure: 'breaker-open' });
      expect(called).toBe(0);

      trialGate.resolve('healthy');
      expect(await trial).toBe('healthy');
      expect(guard.state()).toBe('closed');
      expect(await guard.run(async () => 'again')).toBe('again');
    });

    it('re-opens when the trial fails', async () => {
      const { guard, clock } = setup({ limits: limits({ failureThreshold: 1, resetAfterMs: 1_000 }) });
      await failureOf(guard.run(failing));
      expect(guard.state()).toBe('open');
      clock.advance(1_000);
      expect(guard.state()).toBe('half-open');
      await failureOf(guard.run(failing));
      expect(guard.state()).toBe('open');
      clock.advance(999);
      expect(guard.state()).toBe('open');
      clock.advance(1);
      expect(await guard.run(async () => 'recovered')).toBe('recovered');
      expect(guard.state()).toBe('closed');
    });

    it('counts timeouts as failures', async () => {
      const { guard } = setup({ limits: limits({ timeoutMs: 10, failureThreshold: 2 }) });
      await failureOf(guard.run(() => new Promise(() => {})));
      await failureOf(guard.run(() => new Promise(() => {})));
      expect(guard.state()).toBe('open');
    });

    it('needs consecutive failures: an answer resets the count', async () => {
      const { guard } = setup({ limits: limits({ failureThreshold: 2 }) });
      await failureOf(guard.run(failing));
      await guard.run(async () => 'ok');
      await failureOf(guard.run(failing));
      expect(guard.state()).toBe('closed');
    });

    it('does not count a refused request: the bureau answered', async () => {
      const { guard, calls } = setup({ limits: limits({ failureThreshold: 2 }) });
      for (let i = 0; i < 5; i += 1) {
        const error = await failureOf(
          guard.run(() => Promise.reject(new UpstreamRejectedError(BUREAU, 'HTTP 403'))),
        );
        expect(error).toBeInstanceOf(UpstreamRejectedError);
      }
      expect(guard.state()).toBe('closed');
      expect(calls.every((call) => call.outcome === 'error')).toBe(true);
    });

    it("does not count the caller's abort, and passes its reason on", async () => {
      const { guard, calls } = setup({ limits: limits({ failureThreshold: 1 }) });
      const caller = new AbortController();
      let seen: AbortSignal | undefined;
      const running = guard.run((signal) => {
        seen = signal;
        return new Promise(() => {});
      }, caller.signal);
      await flush();
      const reason = new Error('client went away');
      caller.abort(reason);
      expect(await failureOf(running)).toBe(reason);
      expect(seen?.aborted).toBe(true);
      expect(guard.state()).toBe('closed');
      expect(calls.map((call) => call.outcome)).toEqual(['aborted']);
    });

    it('lets another trial through when the trial was aborted by its caller', async () => {
      const { guard, clock } = setup({ limits: limits({ failureThreshold: 1, resetAfterMs: 100 }) });
      await failureOf(guard.run(failing));
      clock.advance(100);
      const caller = new AbortController();
      const trial = guard.run(() => new Promise(() => {}), caller.signal);
      await flush();
      caller.abort();
      await failureOf(trial);
      expect(guard.state()).toBe('half-open');
      expect(await guard.run(async () => 'second trial')).toBe('second trial');
      expect(guard.state()).toBe('closed');
    });
  });

  it('wraps an unknown failure so its detail stays in cause', async () => {
    const { guard } = setup();
    const error = await failureOf(guard.run(failing));
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    const unavailable = error as UpstreamUnavailableError;
    expect(unavailable.message).toBe(`${BUREAU} is unavailable (failed)`);
    expect((unavailable.cause as Error).message).toContain('ECONNREFUSED');
  });

  it('close() waits for calls in flight and refuses new ones', async () => {
    const { guard } = setup();
    const gate = deferred();
    const running = guard.run(() => gate.promise);
    await flush();
    let closed = false;
    const closing = guard.close().then(() => void (closed = true));
    await flush();
    expect(closed).toBe(false);
    expect(await failureOf(guard.run(async () => 'late'))).toMatchObject({ failure: 'failed' });
    gate.resolve('finished');
    expect(await running).toBe('finished');
    await closing;
    expect(closed).toBe(true);
  });
});

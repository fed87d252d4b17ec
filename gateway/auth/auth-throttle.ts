import type { Registry } from 'prom-client';
import { Counter, Gauge } from 'prom-client';

/** What a throttled client is told: what happened and for how long (`retry-after`), never which token or why it failed before. */
export const THROTTLED_MESSAGE = 'Too many failed authentications from this address: every request from it is refused until the time in retry-after has passed.';

/** Settings of {@link createAuthThrottle}, checked when it is created. */
export interface AuthThrottleOptions {
  /** Failed authentications from one address, within `windowMs`, that start a penalty. */
  readonly threshold: number;
  /** How long failures are counted together: a fixed window that starts at an address's first failure. */
  readonly windowMs: number;
  /** How long a penalized address is refused; the penalty ends on its own. */
  readonly penaltyMs: number;
  /** Most addresses held in each of the two tables (counting, penalized): memory is bounded by twice this. */
  readonly capacity: number;
  /** The clock, for tests: milliseconds. */
  readonly now?: () => number;
  /** Where `isthmus_auth_throttled_total` and `isthmus_auth_throttle_tracked_addresses` are registered. */
  readonly registry?: Registry;
}

/**
 * Failed authentications per client address, and the addresses refused for
 * a while because they kept failing. Per process: each replica counts its
 * own failures (an attacker spread over `n` replicas gets `n` times the
 * threshold before every replica refuses it, which is fine for a throttle).
 *
 * Memory is two fixed-capacity tables, never an unbounded map:
 * - counting: addresses with failures in their window, least recently failed
 *   first out. When it is full a new address evicts the least recently failed
 *   one, so an attacker rotating addresses restarts other addresses' counts
 *   (they need a full threshold again), never lifts a penalty;
 * - penalized: addresses in their penalty. Penalties all last as long, so the
 *   oldest ends first; when it is full, a new penalty ends the oldest early.
 *   An attacker would need `capacity` addresses each failing `threshold`
 *   times within the penalty to free one.
 */
export interface AuthThrottle {
  /** Seconds the address must wait (at least 1) while it is penalized, else undefined. A good token during the penalty is refused too. */
  refusal(address: string): number | undefined;
  /** Counts one failed authentication; answers the penalty's seconds when this failure started one. */
  fail(address: string): number | undefined;
  /** Addresses held now, in both tables. */
  tracked(): number;
}

interface Counting {
  count: number;
  readonly since: number;
}

/**
 * Builds the throttle. Throws when a setting is not a positive whole number
 * (the config reports these first, by setting name).
 *
 * @example
 * const throttle = createAuthThrottle({ threshold: 20, windowMs: 60_000, penaltyMs: 300_000, capacity: 10_000 });
 * if (throttle.refusal('203.0.113.9') === undefined) { … verify … on failure: throttle.fail('203.0.113.9'); }
 */
export function createAuthThrottle(options: AuthThrottleOptions): AuthThrottle {
  for (const name of ['threshold', 'windowMs', 'penaltyMs', 'capacity'] as const) {
    if (!Number.isInteger(options[name]) || options[name] <= 0) throw new RangeError(`auth throttle ${name} must be a positive whole number`);
  }
  const { threshold, windowMs, penaltyMs, capacity } = options;
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order: deleting and setting again moves an entry to the end, which makes it an LRU.
  const counting = new Map<string, Counting>();
  const penalized = new Map<string, number>();
  const registers = options.registry ? [options.registry] : [];
  const throttled = new Counter({ name: 'isthmus_auth_throttled_total', help: 'Authentications refused because the client address kept failing (AUTH_THROTTLED).', registers });
  new Gauge({
    name: 'isthmus_auth_throttle_tracked_addresses',
    help: 'Client addresses the failed-authentication throttle holds now (counting or penalized), at most twice its capacity.',
    registers,
    collect() {
      this.set(counting.size + penalized.size);
    },
  });

  const penaltyEnd = (address: string, at: number): number | undefined => {
    const until = penalized.get(address);
    if (until === undefined) return undefined;
    if (until > at) return until;
    penalized.delete(address);
    return undefined;
  };
  const seconds = (until: number, at: number): number => Math.max(1, Math.ceil((until - at) / 1_000));

  return {
    refusal(address) {
      const at = now();
      const until = penaltyEnd(address, at);
      if (until === undefined) return undefined;
      throttled.inc();
      return seconds(until, at);
    },
    fail(address) {
      const at = now();
      if (penaltyEnd(address, at) !== undefined) return undefined;
      const known = counting.get(address);
      const entry = known && at - known.since < windowMs ? known : { count: 0, since: at };
      entry.count += 1;
      counting.delete(address);
      if (entry.count >= threshold) {
        if (penalized.size >= capacity) penalized.delete(penalized.keys().next().value!);
        penalized.set(address, at + penaltyMs);
        return seconds(at + penaltyMs, at);
      }
      if (counting.size >= capacity) counting.delete(counting.keys().next().value!);
      counting.set(address, entry);
      return undefined;
    },
    tracked: () => counting.size + penalized.size,
  };
}

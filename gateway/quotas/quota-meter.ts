import type { Agreement } from '../../policies/agreement.ts';
import type { QuotaKind } from '../../policies/agreement-quota.ts';
import { quotaWindow, secondsUntilWindowEnds } from '../../policies/quota-window.ts';
import type { QuotaStore } from './quota-store.ts';

/**
 * One replica's side of agreement quotas. Each replica leases blocks of
 * units from the shared counter (`quota-store.ts`) and spends them locally,
 * so a request costs a round trip only when its replica's block runs out.
 *
 * Bounds, across all replicas sharing a store:
 * - requests per minute: never more than the limit are admitted in a minute
 *   (leases are capped at the limit in the store). The price is the other
 *   way: units a replica leased but did not spend by the minute's end are
 *   lost, at most `replicas × block` a minute, so fewer may be admitted.
 * - records per day: a request is admitted while its replica holds at least
 *   one unit of the day; the records it returns are spent afterwards. The
 *   request that crosses the day's limit is answered in full, and after it
 *   none is admitted that day: the overshoot is the records returned by
 *   requests already admitted when the limit was reached (across replicas).
 * A block is at most a tenth of the limit (at least 1), so a small quota is
 * counted exactly, unit by unit.
 */
export interface QuotaMeter {
  /**
   * Admits a request under the agreements it uses, taking one request unit
   * of each that limits requests; the first quota it is over, or `undefined`.
   * A unit taken from an earlier agreement of a refused request is spent.
   */
  admit(agreements: readonly Agreement[], now: Date): Promise<QuotaRefusal | undefined>;
  /** Spends the records a request returned under each agreement (by id); in the background, never failing the request. */
  spend(agreements: readonly Agreement[], records: ReadonlyMap<string, number>, now: Date): void;
}

/** Why a request is refused: the agreement, the quota it is over, and when that quota's window opens again. */
export interface QuotaRefusal {
  readonly agreementId: string;
  readonly kind: QuotaKind;
  readonly limit: number;
  /** Whole seconds until the window ends (at least 1). */
  readonly retryAfterSeconds: number;
}

/** What a meter is built with. */
export interface QuotaMeterOptions {
  readonly store: QuotaStore;
  /** Largest block a replica leases at once (`ISTHMUS_QUOTA_LEASE_BLOCK`). */
  readonly leaseBlock: number;
  /** Told when a background lease fails (the records are then not counted against the day). */
  readonly onError?: (error: unknown) => void;
  /** Told of every refusal (the refusals counter). */
  readonly onRefused?: (refusal: QuotaRefusal) => void;
}

/** A block is at most this fraction of the limit, so that units lost at a window's end stay a small part of it. */
const BLOCK_FRACTION_OF_LIMIT = 10;

interface Held {
  /** Start of the window the units belong to (ms). */
  windowStart: number;
  /** Units leased and not yet spent; negative while a spend waits for its lease. */
  remaining: number;
  /** The store granted nothing more in this window: refuse without asking it again. */
  exhausted: boolean;
  /** Leases of one counter run one after another, so that concurrent requests share a block instead of each leasing one. */
  queue: Promise<void>;
}

/** A meter for one replica. */
export function createQuotaMeter(options: QuotaMeterOptions): QuotaMeter {
  const held = new Map<string, Held>();

  const heldFor = (agreementId: string, kind: QuotaKind, now: Date): Held => {
    const key = `${kind}\u0000${agreementId}`;
    const windowStart = quotaWindow(kind, now).start.getTime();
    let entry = held.get(key);
    if (!entry || entry.windowStart !== windowStart) {
      // A new window: what was left of the old one is lost (and so is a finished agreement's entry, replaced on next use).
      entry = { windowStart, remaining: 0, exhausted: false, queue: Promise.resolve() };
      held.set(key, entry);
    }
    return entry;
  };

  /**
   * Leases units until `entry` holds at least `needed`, or the store has none; true when it holds them,
   * and then `take` of them are spent in the same step (no other request can take them in between).
   */
  const ensure = (entry: Held, agreementId: string, kind: QuotaKind, limit: number, needed: number, take: number): Promise<boolean> => {
    const run = entry.queue.then(async () => {
      // Again while records spent during the round trip (other requests' `spend`) ate what it brought.
      while (entry.remaining < needed && !entry.exhausted) {
        const block = Math.max(1, Math.min(options.leaseBlock, Math.floor(limit / BLOCK_FRACTION_OF_LIMIT)));
        const ask = Math.max(block, needed - entry.remaining);
        const granted = await options.store.lease(agreementId, kind, new Date(entry.windowStart), ask, limit);
        entry.remaining += granted;
        if (granted < ask) entry.exhausted = true;
      }
      if (entry.remaining < needed) return false;
      entry.remaining -= take;
      return true;
    });
    entry.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  };

  return {
    async admit(agreements, now) {
      for (const agreement of agreements) {
        const { quota } = agreement;
        if (!quota) continue;
        for (const kind of ['requestsPerMinute', 'recordsPerDay'] as const) {
          const limit = quota[kind];
          if (limit === undefined) continue;
          const entry = heldFor(agreement.id, kind, now);
          // A request is one unit of its minute; its records are spent after it ran, so admitting it takes none.
          const take = kind === 'requestsPerMinute' ? 1 : 0;
          if (entry.remaining >= 1) {
            // The common case: units are held, and the request costs no round trip.
            entry.remaining -= take;
            continue;
          }
          if (entry.exhausted || !(await ensure(entry, agreement.id, kind, limit, 1, take))) {
            const refusal = { agreementId: agreement.id, kind, limit, retryAfterSeconds: secondsUntilWindowEnds(kind, now) };
            options.onRefused?.(refusal);
            return refusal;
          }
        }
      }
      return undefined;
    },
    spend(agreements, records, now) {
      for (const agreement of agreements) {
        const limit = agreement.quota?.recordsPerDay;
        const count = records.get(agreement.id) ?? 0;
        if (limit === undefined || count === 0) continue;
        const entry = heldFor(agreement.id, 'recordsPerDay', now);
        entry.remaining -= count;
        if (entry.remaining >= 0) continue;
        // Take the deficit from the store; only the store granting less than asked marks the day as used up
        // (`ensure` sets `exhausted`). A deficit left here may be a later spend's, whose own lease is queued.
        ensure(entry, agreement.id, 'recordsPerDay', limit, 0, 0).then(
          () => {
            if (entry.exhausted && entry.remaining < 0) entry.remaining = 0;
          },
          (error: unknown) => options.onError?.(error),
        );
      }
    },
  };
}

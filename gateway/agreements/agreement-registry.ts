import type { Agreement } from '../../policies/agreement.ts';
import { isInForce } from '../../policies/agreement-lifecycle.ts';
import type { Unlisten } from '../store/store.ts';
import { AGREEMENTS_CHANNEL, type AgreementStore } from './agreement-store.ts';

/**
 * How often the registry compares the stored set version with its own, in
 * case a notification was lost (a dropped LISTEN connection, a proxy that
 * does not pass them). Well under the one-second bound on a revocation.
 */
export const DEFAULT_AGREEMENT_POLL_MS = 300;

/** What the hot path reads: the agreements in force now and the set version they come from. */
export interface AgreementRegistrySnapshot {
  /** The stored agreement set's version this snapshot was read at. */
  readonly version: number;
  /** `ACTIVE` agreements inside their window now (frozen: decisions index it once). */
  readonly agreements: readonly Agreement[];
  /** The same agreements by id, for those a request used (the access log's disclosure delays). */
  readonly byId: ReadonlyMap<string, Agreement>;
  /**
   * Epoch ms at which an agreement of this snapshot starts or ends its window
   * (`Infinity` if none): time alone changes the set then, so the registry
   * builds the next snapshot at that instant.
   */
  readonly stableUntil: number;
}

/** Options of {@link createAgreementRegistry}. */
export interface AgreementRegistryOptions {
  readonly agreements: AgreementStore;
  /**
   * `Store.listen`, to hear changes as they commit. Without it the registry
   * relies on polling alone.
   */
  readonly listen?: (channel: string, onNotify: (payload: string) => void) => Promise<Unlisten>;
  /** Poll interval in ms; 0 turns polling off (only sensible with `listen`). */
  readonly pollIntervalMs?: number;
  readonly now?: () => Date;
  /** Told about failed refreshes and polls; the registry keeps its last snapshot and tries again. */
  readonly onError?: (error: unknown) => void;
}

/** The in-memory view of the agreements in force, kept current from the store. */
export interface AgreementRegistry {
  /** Synchronous: one clock read, and a re-filter only when a window boundary has passed. Safe for every request. */
  current(): AgreementRegistrySnapshot;
  /** Reads the store now (waiting for a refresh already running, then running one more). */
  refresh(): Promise<void>;
  /** Stops listening and polling. */
  close(): Promise<void>;
}

/**
 * Loads the active agreements, then keeps them current: on every
 * `NOTIFY isthmus_agreements` (the store sends one with each change) and,
 * as a safety net, whenever a poll finds the stored set version moved.
 * A revocation committed by any gateway process sharing the database thus
 * reaches this one within one notification, or at worst one poll interval.
 *
 * @example
 * const registry = await createAgreementRegistry({ agreements, listen: store.listen });
 * const { version, agreements: inForce } = registry.current();
 */
export async function createAgreementRegistry(options: AgreementRegistryOptions): Promise<AgreementRegistry> {
  const { agreements: store, listen, pollIntervalMs = DEFAULT_AGREEMENT_POLL_MS, now = () => new Date(), onError = () => {} } = options;
  if (!Number.isFinite(pollIntervalMs) || pollIntervalMs < 0) throw new TypeError('pollIntervalMs must be a number of milliseconds, 0 to turn polling off');

  let stored: { readonly version: number; readonly agreements: readonly Agreement[] } = { version: -1, agreements: [] };
  let view: AgreementRegistrySnapshot = { version: -1, agreements: [], byId: new Map(), stableUntil: 0 };
  let closed = false;

  const rebuild = (at: number): void => {
    const clock = new Date(at);
    let stableUntil = Number.POSITIVE_INFINITY;
    for (const agreement of stored.agreements) {
      for (const boundary of [Date.parse(agreement.validFrom), Date.parse(agreement.validUntil)]) {
        if (boundary > at && boundary < stableUntil) stableUntil = boundary;
      }
    }
    // Frozen: the decision function indexes a frozen list once, and reuses the index while the list lives.
    const inForce = Object.freeze(stored.agreements.filter((agreement) => isInForce(agreement, clock)));
    view = { version: stored.version, agreements: inForce, byId: new Map(inForce.map((agreement) => [agreement.id, agreement])), stableUntil };
  };

  // One refresh at a time; triggers during one ask for one more, not one each.
  let running: Promise<void> | undefined;
  let again = false;
  const refresh = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          const snapshot = await store.activeSnapshot(now());
          // Snapshots come one after another, so versions only move forward; the check guards the invariant anyway.
          if (snapshot.version >= stored.version) {
            stored = snapshot;
            rebuild(now().getTime());
          }
        } while (again && !closed);
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  const refreshQuietly = (): void => {
    refresh().catch(onError);
  };

  await refresh();

  let unlisten: Unlisten | undefined;
  if (listen) {
    unlisten = await listen(AGREEMENTS_CHANNEL, (payload) => {
      const announced = Number(payload);
      // A payload that is not newer than what we hold is an echo of a change we already read.
      if (Number.isInteger(announced) && announced <= stored.version) return;
      refreshQuietly();
    });
  }

  let timer: NodeJS.Timeout | undefined;
  let polling = false;
  if (pollIntervalMs > 0) {
    timer = setInterval(() => {
      if (polling || closed) return;
      polling = true;
      store
        .setVersion()
        .then((version) => (version !== stored.version ? refresh() : undefined))
        .catch(onError)
        .finally(() => (polling = false));
    }, pollIntervalMs);
    // A registry alone must not keep a process (a CLI, a test) alive.
    timer.unref();
  }

  return {
    current() {
      const at = now().getTime();
      if (at >= view.stableUntil) rebuild(at);
      return view;
    },
    refresh,
    async close() {
      closed = true;
      clearInterval(timer);
      await unlisten?.();
      await running?.catch(() => {});
    },
  };
}

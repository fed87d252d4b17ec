import type { Agreement } from '../../policies/agreement.ts';
import type { AgreementStore } from './agreement-store.ts';

/**
 * How often the gateway records `EXPIRED` for agreements past their window.
 * Readers already treat them as not in force from the instant the window
 * ends (see `effectiveStatus`, the registry); the sweep only puts the fact in
 * the history, so a minute late is fine.
 */
export const DEFAULT_EXPIRY_SWEEP_MS = 60_000;

/** Options of {@link startAgreementExpiry}. */
export interface AgreementExpiryOptions {
  readonly agreements: AgreementStore;
  readonly intervalMs?: number;
  readonly now?: () => Date;
  /** Told about each sweep that expired something, e.g. to log it. */
  readonly onExpired?: (expired: readonly Agreement[]) => void;
  /** Told about a failed sweep; the next one tries again. */
  readonly onError?: (error: unknown) => void;
}

/** A running expiry sweep. */
export interface AgreementExpiry {
  /** Sweeps now; resolves with the agreements this sweep expired. */
  sweep(): Promise<readonly Agreement[]>;
  close(): void;
}

/**
 * Sweeps every `intervalMs`. Safe in every gateway process at once: an
 * agreement another process expired first is skipped (its version moved).
 *
 * @example
 * const expiry = startAgreementExpiry({ agreements, onExpired: (list) => log.info({ ids: list.map((a) => a.id) }, 'agreements expired') });
 */
export function startAgreementExpiry(options: AgreementExpiryOptions): AgreementExpiry {
  const { agreements, intervalMs = DEFAULT_EXPIRY_SWEEP_MS, now = () => new Date(), onExpired = () => {}, onError = () => {} } = options;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new TypeError('intervalMs must be a positive number of milliseconds');
  let running: Promise<readonly Agreement[]> | undefined;
  const sweep = (): Promise<readonly Agreement[]> => {
    // Overlapping sweeps would only race each other into CONFLICTs.
    running ??= agreements
      .expireDue(now())
      .then((expired) => {
        if (expired.length > 0) onExpired(expired);
        return expired;
      })
      .finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(() => sweep().catch(onError), intervalMs);
  timer.unref();
  return {
    sweep,
    close: () => clearInterval(timer),
  };
}

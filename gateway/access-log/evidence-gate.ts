/** `ISTHMUS_WITNESS_GRACE_SECONDS` when unset: fifteen minutes without a witnessed checkpoint, then no data. */
export const DEFAULT_WITNESS_GRACE_SECONDS = 900;
/** Entries committed within this long of each other are tracked as one (the gate's memory stays ~ grace / this). */
const COALESCE_MS = 1_000;

/** The gateway stops releasing data: too long without a witnessed checkpoint. */
export class EvidenceUnwitnessedError extends Error {
  override readonly name = 'EvidenceUnwitnessedError';
  readonly code = 'EVIDENCE_UNWITNESSED';
  /** Since when the oldest unwitnessed evidence waits. */
  readonly since: Date;
  constructor(since: Date) {
    super('No witness has cosigned the access log for longer than the grace period, so no data is released until one does.');
    this.since = since;
  }
}

/** The codes of this module, for the error table. */
export type EvidenceGateErrorCode = EvidenceUnwitnessedError['code'];

/** What the gate says, for `/readyz`. */
export interface EvidenceGateState {
  /** False once the oldest uncovered evidence is older than the grace period. */
  readonly open: boolean;
  /** Whether the gate is on at all (witnesses configured). */
  readonly enabled: boolean;
  /** The oldest commit (or the start, for checkpoint #0) that no quorum-cosigned checkpoint covers yet. */
  readonly oldestUncoveredAt: Date | undefined;
  /** The size of the latest quorum-cosigned checkpoint; undefined before the first. */
  readonly coveredSize: number | undefined;
  /** One line for operators when closed. */
  readonly reason: string | undefined;
}

/** Tracks how long the chain's newest evidence has waited for witnesses. */
export interface EvidenceGate {
  /** The chain started: its checkpoint #0 waits for witnesses from now. */
  started(): void;
  /** A batch committed: entries up to `lastSeq` wait for a checkpoint that covers them. */
  committed(lastSeq: number): void;
  /** A checkpoint of `size` entries is quorum-cosigned. */
  covered(size: number): void;
  state(): EvidenceGateState;
  /** Throws {@link EvidenceUnwitnessedError} when the gate is closed. */
  check(): void;
}

interface Waiting {
  lastSeq: number;
  readonly at: number;
}

/**
 * The evidence gate: once the oldest committed entry (or the chain's start)
 * not covered by a quorum-cosigned checkpoint is older than `graceMs`, the
 * gateway stops releasing data, like X-Road without a timestamp. It opens
 * again by itself when cosignatures arrive. Disabled (always open) when no
 * witnesses are configured.
 *
 * @example
 * const gate = createEvidenceGate({ graceMs: 900_000, enabled: witnesses.length > 0 });
 * gate.check(); // throws EvidenceUnwitnessedError when closed
 */
export function createEvidenceGate(options: { readonly graceMs: number; readonly enabled: boolean; readonly now?: () => number }): EvidenceGate {
  const now = options.now ?? Date.now;
  const waiting: Waiting[] = [];
  let coveredSize = -1;

  const drop = () => {
    while (waiting.length > 0 && waiting[0]!.lastSeq <= coveredSize) waiting.shift();
  };
  const state = (): EvidenceGateState => {
    const oldest = options.enabled ? waiting[0] : undefined;
    const open = oldest === undefined || now() - oldest.at < options.graceMs;
    return {
      open,
      enabled: options.enabled,
      oldestUncoveredAt: oldest === undefined ? undefined : new Date(oldest.at),
      coveredSize: coveredSize < 0 ? undefined : coveredSize,
      reason: open ? undefined : `no quorum of witnesses has cosigned the access log for ${Math.round((now() - oldest.at) / 1_000)} s (grace ${Math.round(options.graceMs / 1_000)} s)`,
    };
  };
  return {
    started() {
      if (options.enabled && coveredSize < 0 && waiting.length === 0) waiting.push({ lastSeq: 0, at: now() });
    },
    committed(lastSeq) {
      if (!options.enabled || lastSeq <= coveredSize) return;
      const last = waiting.at(-1);
      if (last && last.lastSeq > 0 && now() - last.at < COALESCE_MS) last.lastSeq = Math.max(last.lastSeq, lastSeq);
      else waiting.push({ lastSeq, at: now() });
    },
    covered(size) {
      if (size <= coveredSize) return;
      coveredSize = size;
      drop();
    },
    state,
    check() {
      const current = state();
      if (!current.open) throw new EvidenceUnwitnessedError(current.oldestUncoveredAt!);
    },
  };
}

import { describe, expect, it } from 'vitest';
import { createEvidenceGate, EvidenceUnwitnessedError } from './evidence-gate.ts';

describe('the evidence gate', () => {
  const clocked = (enabled = true) => {
    let now = 1_000_000;
    const gate = createEvidenceGate({ graceMs: 10_000, enabled, now: () => now });
    return { gate, advance: (ms: number) => (now += ms) };
  };

  it('closes once checkpoint #0 has waited past the grace period, and opens when it is cosigned', () => {
    const { gate, advance } = clocked();
    gate.started();
    advance(9_999);
    expect(gate.state()).toMatchObject({ open: true, coveredSize: undefined });
    advance(1);
    expect(gate.state()).toMatchObject({ open: false, reason: 'no quorum of witnesses has cosigned the access log for 10 s (grace 10 s)' });
    expect(() => gate.check()).toThrow(EvidenceUnwitnessedError);
    gate.covered(0);
    expect(gate.state()).toMatchObject({ open: true, coveredSize: 0, oldestUncoveredAt: undefined });
  });

  it('times the oldest entry no cosigned checkpoint covers, whatever came after it', () => {
    const { gate, advance } = clocked();
    gate.started();
    gate.covered(0);
    gate.committed(5);
    advance(4_000);
    gate.committed(9);
    advance(4_000);
    gate.committed(12);
    advance(2_500);
    // Entry 1 has waited 10.5 s.
    expect(gate.state().open).toBe(false);
    gate.covered(6);
    // Entries 6…9 (the second batch) have waited 6.5 s; a cosignature that covers part of a batch leaves the batch waiting.
    expect(gate.state()).toMatchObject({ open: true, coveredSize: 6 });
    advance(3_600);
    expect(gate.state().open).toBe(false);
    gate.covered(12);
    expect(gate.state()).toMatchObject({ open: true, oldestUncoveredAt: undefined });
    // A checkpoint older than what is covered changes nothing.
    gate.covered(3);
    expect(gate.state().coveredSize).toBe(12);
  });

  it('tracks entries committed within a second of each other as one', () => {
    const { gate, advance } = clocked();
    gate.covered(0);
    gate.committed(1);
    advance(500);
    gate.committed(2);
    advance(9_600);
    // Entry 1 came first: 10.1 s.
    expect(gate.state().open).toBe(false);
    gate.covered(2);
    expect(gate.state().open).toBe(true);
  });

  it('is always open without witnesses', () => {
    const { gate, advance } = clocked(false);
    gate.started();
    gate.committed(100);
    advance(1_000_000);
    expect(gate.state()).toMatchObject({ open: true, enabled: false });
    expect(() => gate.check()).not.toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createAuthThrottle } from './auth-throttle.ts';

describe('createAuthThrottle', () => {
  it('refuses an address after threshold failures in the window, for the penalty, then lets it in again', () => {
    let now = 0;
    const throttle = createAuthThrottle({ threshold: 3, windowMs: 60_000, penaltyMs: 10_000, capacity: 10, now: () => now });
    expect(throttle.fail('203.0.113.9')).toBeUndefined();
    expect(throttle.fail('203.0.113.9')).toBeUndefined();
    expect(throttle.refusal('203.0.113.9')).toBeUndefined();
    expect(throttle.fail('203.0.113.9')).toBe(10);
    expect(throttle.refusal('203.0.113.9')).toBe(10);
    expect(throttle.refusal('203.0.113.10')).toBeUndefined();
    now = 4_500;
    expect(throttle.refusal('203.0.113.9')).toBe(6);
    now = 10_000;
    expect(throttle.refusal('203.0.113.9')).toBeUndefined();
  });

  it('counts failures within one window only', () => {
    let now = 0;
    const throttle = createAuthThrottle({ threshold: 2, windowMs: 1_000, penaltyMs: 10_000, capacity: 10, now: () => now });
    throttle.fail('a');
    now = 1_000;
    expect(throttle.fail('a')).toBeUndefined();
    expect(throttle.fail('a')).toBe(10);
  });

  it('holds at most its capacity per table under 100 000 distinct addresses, and keeps penalties while others rotate', () => {
    const registry = new Registry();
    const throttle = createAuthThrottle({ threshold: 2, windowMs: 60_000, penaltyMs: 60_000, capacity: 1_000, now: () => 0, registry });
    throttle.fail('198.51.100.1');
    throttle.fail('198.51.100.1');
    for (let i = 0; i < 100_000; i++) throttle.fail(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    expect(throttle.tracked()).toBe(1_001);
    expect(throttle.refusal('198.51.100.1')).toBe(60);
  });

  it('refuses settings that are not positive whole numbers', () => {
    expect(() => createAuthThrottle({ threshold: 0, windowMs: 1, penaltyMs: 1, capacity: 1 })).toThrow(/threshold/);
    expect(() => createAuthThrottle({ threshold: 1, windowMs: 1, penaltyMs: 1, capacity: 1.5 })).toThrow(/capacity/);
  });

  it('counts refusals and tracked addresses in metrics', async () => {
    const registry = new Registry();
    const throttle = createAuthThrottle({ threshold: 1, windowMs: 1_000, penaltyMs: 1_000, capacity: 5, now: () => 0, registry });
    throttle.fail('a');
    throttle.refusal('a');
    const text = await registry.metrics();
    expect(text).toContain('isthmus_auth_throttled_total 1');
    expect(text).toContain('isthmus_auth_throttle_tracked_addresses 1');
  });
});

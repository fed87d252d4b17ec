import { describe, expect, it } from 'vitest';
import { createTokenCache } from './token-cache.ts';

describe('createTokenCache', () => {
  it('holds at most maxEntries, evicting the least recently used', () => {
    const cache = createTokenCache<string>({ maxEntries: 2, ttlMs: 60_000 });
    cache.set('token-a', 'A', 1_000_000, 0);
    cache.set('token-b', 'B', 1_000_000, 0);
    expect(cache.get('token-a', 1)).toBe('A'); // a is now the most recently used
    cache.set('token-c', 'C', 1_000_000, 2);
    expect(cache.size).toBe(2);
    expect(cache.get('token-b', 3)).toBeUndefined();
    expect(cache.get('token-a', 3)).toBe('A');
    expect(cache.get('token-c', 3)).toBe('C');
  });

  it('expires entries at the sooner of the given time and the TTL', () => {
    const cache = createTokenCache<string>({ maxEntries: 10, ttlMs: 60_000 });
    cache.set('short', 'S', 10_000, 0);
    cache.set('long', 'L', 3_600_000, 0);
    expect(cache.get('short', 9_999)).toBe('S');
    expect(cache.get('short', 10_000)).toBeUndefined();
    expect(cache.get('long', 59_999)).toBe('L');
    expect(cache.get('long', 60_000)).toBeUndefined();
    expect(cache.size).toBe(0);
    cache.set('already-expired', 'X', 5, 10);
    expect(cache.size).toBe(0);
  });

  it('checks its options', () => {
    expect(() => createTokenCache({ maxEntries: -1 })).toThrow(TypeError);
    expect(() => createTokenCache({ ttlMs: 1.5 })).toThrow(TypeError);
  });
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalJson, type JsonValue } from './canonical-json.ts';

/**
 * The plain definition, written the obvious way: members with sorted keys,
 * undefined ones left out. (Not JSON.stringify of a sorted copy: JavaScript
 * puts integer-like keys first whatever the insertion order.)
 */
function reference(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object).filter((key) => object[key] !== undefined).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${reference(object[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

describe('canonicalJson', () => {
  it('sorts keys at every depth and leaves out undefined members', () => {
    expect(canonicalJson({ b: 1, a: [true, null, { z: 'ž', y: undefined, x: -0.5 }], c: {} })).toBe('{"a":[true,null,{"x":-0.5,"z":"ž"}],"b":1,"c":{}}');
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson('say "hi"\n')).toBe('"say \\"hi\\"\\n"');
  });

  it('gives the reference text, and the same text for any key order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const canonical = canonicalJson(value as JsonValue);
        expect(canonical).toBe(reference(value));
        // jsonb hands keys back in another order: the text must not change.
        const reordered = JSON.parse(JSON.stringify(value), (_key, item: unknown) =>
          item !== null && typeof item === 'object' && !Array.isArray(item) ? Object.fromEntries(Object.entries(item).reverse()) : item,
        ) as JsonValue;
        expect(canonicalJson(reordered)).toBe(canonical);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses what JSON cannot hold faithfully', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(/non-finite/);
    expect(() => canonicalJson({ a: Number.POSITIVE_INFINITY })).toThrow(/non-finite/);
    expect(() => canonicalJson(new Date(0) as unknown as JsonValue)).toThrow(/plain objects/);
    expect(() => canonicalJson([undefined] as unknown as JsonValue)).toThrow(/plain objects/);
  });
});

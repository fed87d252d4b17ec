/**
 * A seeded pseudo-random number generator returning floats in [0, 1).
 *
 * mulberry32 is tiny, fast and good enough for test fixtures; it is not for
 * anything secret. The same seed always yields the same sequence, which is
 * what makes the demo city reproducible.
 *
 * @example
 * const random = createMulberry32(42);
 * random(); // 0.6011037519201636, every time
 */
export function createMulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return function mulberry32(): number {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

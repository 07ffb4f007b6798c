import { describe, expect, it } from 'vitest';
import { createRng } from '../src/index.ts';

const draws = (seed: number, stream: number, n: number) => {
  const rng = createRng(seed, stream);
  return Array.from({ length: n }, () => rng.uint32());
};

describe('createRng', () => {
  it('repeats its sequence for the same seed and stream', () => {
    expect(draws(42, 0, 100)).toEqual(draws(42, 0, 100));
    expect(draws(42, 123_456, 100)).toEqual(draws(42, 123_456, 100));
  });

  it('keeps the sequence generated data was built from', () => {
    // Seeded inventories and golden cases depend on these values: changing the generator
    // changes every generated database, so it must be a deliberate act.
    expect(draws(42, 0, 4)).toEqual(GOLDEN_42_0);
    expect(draws(42, 7, 2)).toEqual(GOLDEN_42_7);
  });

  it('gives unrelated sequences to nearby seeds and streams', () => {
    const first = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      first.add(createRng(42, i).uint32());
      first.add(createRng(i, 0).uint32());
      first.add(createRng(-i - 1, 2 ** 40 + i).uint32());
    }
    // 30,000 draws from 2^32 values: a handful of birthday collisions at most.
    expect(first.size).toBeGreaterThan(29_990);
  });

  it('draws integers in range, evenly', () => {
    const rng = createRng(1);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[rng.int(1, 6) - 1]!++;
    expect(counts.reduce((a, b) => a + b)).toBe(60_000); // nothing fell outside [1, 6]
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
  });

  it('draws floats in [0, 1) with the right mean', () => {
    const rng = createRng(2);
    let sum = 0;
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = rng.next();
      if (!(x >= 0 && x < 1)) outside++;
      sum += x;
    }
    expect(outside).toBe(0);
    expect(Math.abs(sum / 100_000 - 0.5)).toBeLessThan(0.005);
  });

  it('picks, weighs and flips coins', () => {
    const rng = createRng(3);
    const weights = [1, 0, 3];
    const counts = [0, 0, 0];
    let heads = 0;
    const picked = new Set<string>();
    for (let i = 0; i < 40_000; i++) {
      counts[rng.weighted(weights)]!++;
      if (rng.chance(0.25)) heads++;
      picked.add(rng.pick(['a', 'b']));
    }
    expect([...picked].sort()).toEqual(['a', 'b']);
    expect(counts[1]).toBe(0);
    expect(Math.abs(counts[2]! / 40_000 - 0.75)).toBeLessThan(0.01);
    expect(Math.abs(heads / 40_000 - 0.25)).toBeLessThan(0.01);
  });

  it('refuses seeds it cannot represent and empty choices', () => {
    expect(() => createRng(1.5)).toThrow(RangeError);
    expect(() => createRng(2 ** 60)).toThrow(RangeError);
    expect(() => createRng(1).pick([])).toThrow(RangeError);
    expect(() => createRng(1).int(3, 2)).toThrow(RangeError);
  });
});

const GOLDEN_42_0 = [513135662, 3556056531, 2463002987, 1863322908];
const GOLDEN_42_7 = [301413177, 2746216315];

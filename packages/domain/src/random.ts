// A small seeded pseudo-random generator, so generated data (the seed inventory, golden-test
// cases) is the same on every run, machine and Node.js version. Math.random cannot be seeded.
//
// sfc32 (Chris Doty-Humphrey's Small Fast Chaotic generator, 128-bit state) passes PractRand
// far beyond what we draw, needs only 32-bit integer operations, and is a few nanoseconds a
// draw. Its state is filled from the seed through MurmurHash3's finaliser, so that nearby
// seeds (42, 43) or stream numbers (model 7, model 8) start from unrelated states.
//
// Streams let a generator give each entity its own sequence (`createRng(seed, modelIndex)`):
// an entity's data then does not depend on how many draws came before it, so a table can be
// generated in chunks, or regenerated in a later pass, and still be identical.

// MurmurHash3's finaliser: a bijection on 32-bit integers with full avalanche.
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number, stream = 0) {
    if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(stream)) {
      throw new RangeError(`seed and stream must be safe integers, got ${seed} and ${stream}`);
    }
    const seedKey = fmix32((seed >>> 0) ^ fmix32((Math.floor(seed / 2 ** 32) >>> 0) ^ 0x9e3779b9));
    const streamKey = fmix32((Math.floor(stream / 2 ** 32) >>> 0) ^ 0x7f4a7c15);
    // `a` is a bijection of the stream's low word for a given seed, so no two of the first
    // 2^32 streams of a seed start from the same state.
    this.#a = fmix32((stream >>> 0) ^ fmix32(seedKey ^ streamKey));
    this.#b = fmix32(seedKey ^ 0x6a09e667 ^ fmix32(((stream >>> 0) + streamKey) | 0));
    this.#c = fmix32(this.#a ^ this.#b ^ 0xbb67ae85);
    this.#d = 1; // sfc32's counter; starting it at 1 is the reference seeding.
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** A uniform integer in [0, 2^32). */
  uint32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.uint32() / 4_294_967_296;
  }

  /** A uniform integer in [min, max], both included. */
  int(min: number, max: number): number {
    if (max < min) throw new RangeError(`empty range [${min}, ${max}]`);
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list, uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('cannot pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** An index into `weights`, with probability proportional to its weight. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }
}

/** A generator for `seed`, on its own independent `stream` (default 0). */
export function createRng(seed: number, stream = 0): Rng {
  return new Rng(seed, stream);
}

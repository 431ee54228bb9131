/**
 * Seeded pseudo-random numbers for the whole toolkit (weight initialisation, dropout masks,
 * data order, augmentation, voice draws): xoshiro128** (Blackman & Vigna, 2018,
 * https://prng.di.unimi.it/xoshiro128starstar.c) seeded through splitmix32, so every run
 * repeats exactly for a given seed, and the state can be saved into a training checkpoint and
 * restored to resume the same stream.
 *
 * Not cryptographic, and not meant to match NumPy's or PyTorch's streams.
 */

/** The full generator state: four unsigned 32-bit words. */
export type RngState = [number, number, number, number];

/** splitmix32 step, used only to spread a user seed over the four state words. */
function splitmix32(x: number): [number, number] {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [x, z >>> 0];
}

/**
 * A seeded xoshiro128** generator.
 *
 * @example
 * ```ts
 * const rng = new Rng(42);
 * const saved = rng.state();
 * const a = rng.uniform();
 * rng.setState(saved);
 * console.assert(rng.uniform() === a);
 * ```
 */
export class Rng {
  #s = new Uint32Array(4);

  /** Seeds the generator from any integer (negative and fractional seeds are folded to 32 bits). */
  constructor(seed = 0) {
    let x = Math.trunc(seed) | 0;
    for (let i = 0; i < 4; i++) {
      const [nx, z] = splitmix32(x);
      x = nx;
      this.#s[i] = z;
    }
    // The all-zero state is the one fixed point of xoshiro; splitmix32 cannot produce four zeros,
    // but guard anyway so a restored state can never be stuck.
    if ((this.#s[0] | this.#s[1] | this.#s[2] | this.#s[3]) === 0) this.#s[0] = 1;
  }

  /** The next raw unsigned 32-bit output. */
  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A float uniform in [0, 1) with 32 random bits. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A float uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /**
   * A standard normal draw (Box-Muller). Two uniforms per call and no cached spare, so the
   * state alone determines the stream.
   */
  normal(): number {
    const u1 = 1 - this.uniform(); // (0, 1], keeps log finite
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** An integer uniform in [0, n), without modulo bias (rejection sampling). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) {
      throw new RangeError(`ops/random.ts: int(n) needs an integer 1 <= n <= 2^32, got ${n}`);
    }
    const limit = 4294967296 - (4294967296 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** An integer uniform in [lo, hi], both ends included (Python's `random.randint`). */
  randint(lo: number, hi: number): number {
    if (hi < lo) throw new RangeError(`ops/random.ts: randint(${lo}, ${hi}) has hi < lo`);
    return lo + this.int(hi - lo + 1);
  }

  /** One element of a non-empty array, drawn uniformly. */
  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("ops/random.ts: choice() of an empty array");
    return items[this.int(items.length)];
  }

  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** A copy of the current state, safe to store as JSON. */
  state(): RngState {
    return [this.#s[0], this.#s[1], this.#s[2], this.#s[3]];
  }

  /** Restores a state returned by `state()`. */
  setState(state: RngState): void {
    if (!Array.isArray(state) || state.length !== 4 || state.some((w) => !Number.isInteger(w))) {
      throw new TypeError(`ops/random.ts: setState() expects four integers, got ${JSON.stringify(state)}`);
    }
    if (state.every((w) => (w >>> 0) === 0)) {
      throw new RangeError(
        "ops/random.ts: setState() refuses the all-zero state (the generator would stick)",
      );
    }
    for (let i = 0; i < 4; i++) this.#s[i] = state[i] >>> 0;
  }

  /** A new generator with a copy of this one's state. */
  clone(): Rng {
    const r = new Rng(0);
    r.setState(this.state());
    return r;
  }

  /** A new generator seeded from this one's stream, for independent per-item streams. */
  fork(): Rng {
    return new Rng(this.nextUint32() | 0);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

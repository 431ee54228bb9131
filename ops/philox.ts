/**
 * Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror & Shaw, "Parallel
 * random numbers: as easy as 1, 2, 3" (SC 2011), §4.1: a 128-bit counter and a 64-bit key
 * map to four uint32 words through ten rounds of two 32×32→64-bit multiplies, xors with the
 * key, and Weyl key bumps. Any element's random word is a pure function of (counter, key), so
 * every backend computes the same stream without sharing state: the cpu kernels call
 * `philox4x32x10`, the WGSL kernels are rendered from `PHILOX` below with the same integer
 * rounds (WGSL has no 64-bit multiply, so its mulhi is built from 16-bit halves; here float64
 * partial products are exact and faster).
 *
 * Not here: the Random123 variants with other widths or round counts, and floats with more
 * than 24 random bits (the uint32 → float conversion is `uniform24`, exact in float32).
 */

/** The round constants of Philox4x32 (Random123's PHILOX_M4x32_0/1 and PHILOX_W32_0/1). */
export const PHILOX = {
  m0: 0xd2511f53,
  m1: 0xcd9e8d57,
  w0: 0x9e3779b9,
  w1: 0xbb67ae85,
  rounds: 10,
} as const;

/**
 * High 32 bits of the 64-bit product a·b of two uint32. Both partial products a·(b mod 2^16)
 * and a·(b >> 16) are below 2^48, so float64 holds them exactly, and the floors divide
 * exactly by powers of two.
 */
export function mulhi32(a: number, b: number): number {
  const lo = a * (b & 0xffff), hi = a * (b >>> 16);
  return Math.floor((hi + Math.floor(lo / 65536)) / 65536);
}

/**
 * The four uint32 words of Philox4x32-10 for `counter` (four words) and `key` (two words),
 * written into `out` (a new array when omitted).
 *
 * @example
 * ```ts
 * philox4x32x10([0, 0, 0, 0], [0, 0]); // Uint32Array [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
 * ```
 */
export function philox4x32x10(
  counter: ArrayLike<number>,
  key: ArrayLike<number>,
  out: Uint32Array = new Uint32Array(4),
): Uint32Array {
  let c0 = counter[0] >>> 0, c1 = counter[1] >>> 0, c2 = counter[2] >>> 0, c3 = counter[3] >>> 0;
  let k0 = key[0] >>> 0, k1 = key[1] >>> 0;
  for (let r = 0; r < PHILOX.rounds; r++) {
    if (r > 0) {
      k0 = (k0 + PHILOX.w0) >>> 0;
      k1 = (k1 + PHILOX.w1) >>> 0;
    }
    const hi0 = mulhi32(PHILOX.m0, c0), lo0 = Math.imul(PHILOX.m0, c0) >>> 0;
    const hi1 = mulhi32(PHILOX.m1, c2), lo1 = Math.imul(PHILOX.m1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}

/** The top 24 bits of a uint32 as a float in [0, 1): exact in float32, so every backend agrees. */
export function uniform24(word: number): number {
  return (word >>> 8) / 16777216;
}

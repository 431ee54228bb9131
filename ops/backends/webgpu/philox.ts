/**
 * Philox4x32-10 in WGSL, rendered from the constants of ops/philox.ts so that the cpu and
 * webgpu streams cannot drift apart: `philox(counter, key)` returns the same four words as
 * `philox4x32x10`. WGSL has no 64-bit multiply, so the high word of each product is built
 * from 16-bit halves (`mulhi`), exactly as the TypeScript reference does; u32 products wrap,
 * which gives the low word.
 */
import { PHILOX } from "../../philox.ts";

const u32 = (v: number): string => `0x${v.toString(16)}u`;

/** WGSL functions `mulhi(a, b) -> u32` and `philox(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32>`. */
export const PHILOX_WGSL = `fn mulhi(a: u32, b: u32) -> u32 {
  let al = a & 0xffffu;
  let ah = a >> 16u;
  let bl = b & 0xffffu;
  let bh = b >> 16u;
  let lh = al * bh;
  let hl = ah * bl;
  let mid = ((al * bl) >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return ah * bh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}
fn philox(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var r = 0u; r < ${PHILOX.rounds}u; r++) {
    if (r > 0u) { k += vec2<u32>(${u32(PHILOX.w0)}, ${u32(PHILOX.w1)}); }
    let hi0 = mulhi(${u32(PHILOX.m0)}, c.x);
    let lo0 = ${u32(PHILOX.m0)} * c.x;
    let hi1 = mulhi(${u32(PHILOX.m1)}, c.z);
    let lo1 = ${u32(PHILOX.m1)} * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
  }
  return c;
}`;

/**
 * Philox4x32-10 (ops/philox.ts and its WGSL rendering in ops/backends/webgpu/philox.ts)
 * against the known-answer vectors Random123 lists in kat_vectors for philox4x32_10, and the
 * mulhi against BigInt products.
 * Without a WebGPU adapter the WGSL test is skipped, loudly.
 */
import assert from "node:assert/strict";
import { mulhi32, philox4x32x10, uniform24 } from "../../ops/philox.ts";
import { initWebGpu, webGpuBackend } from "../../ops/backends/webgpu/mod.ts";
import { PHILOX_WGSL } from "../../ops/backends/webgpu/philox.ts";
import { type GpuStorage, wgslMeta } from "../../ops/backends/webgpu/backend.ts";
import { Rng } from "../../ops/random.ts";

const F = 0xffffffff;
/** [counter, key, expected] from Random123's kat_vectors (philox4x32 10). */
const KAT: [number[], number[], number[]][] = [
  [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
  [[F, F, F, F], [F, F], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
  [
    [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    [0xa4093822, 0x299f31d0],
    [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
  ],
];

Deno.test("philox4x32x10 reproduces the Random123 known-answer vectors", () => {
  for (const [counter, key, expected] of KAT) {
    assert.deepEqual([...philox4x32x10(counter, key)], expected, `counter [${counter}], key [${key}]`);
  }
});

Deno.test("mulhi32 equals the high word of the BigInt product", () => {
  const rng = new Rng(9);
  const pairs = [[F, F], [0, F], [0xd2511f53, 0xffffffff], [0x10000, 0x10000], [0xffff, 0x10001]];
  for (let k = 0; k < 1000; k++) pairs.push([rng.nextUint32(), rng.nextUint32()]);
  for (const [a, b] of pairs) {
    assert.equal(mulhi32(a, b), Number((BigInt(a) * BigInt(b)) >> 32n), `${a} · ${b}`);
  }
});

Deno.test("uniform24 maps the top 24 bits into [0, 1) exactly", () => {
  assert.equal(uniform24(0), 0);
  assert.equal(uniform24(0xff), 0);
  assert.equal(uniform24(0x100), 2 ** -24);
  assert.equal(uniform24(F), 1 - 2 ** -24);
  assert.equal(Math.fround(uniform24(0x9b00dbd8)), uniform24(0x9b00dbd8));
});

const hasGpu = await initWebGpu({ quiet: true });
if (!hasGpu) console.warn("SKIPPED (no WebGPU adapter): the WGSL Philox known-answer test needs one");

Deno.test({
  name: "the WGSL philox reproduces the Random123 known-answer vectors on webgpu",
  ignore: !hasGpu,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const gpu = webGpuBackend()!;
    // One invocation per vector: counter and key from the parameter block, four words out.
    const source = `${PHILOX_WGSL}
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
${wgslMeta(1)}
@compute @workgroup_size(1)
fn main(@builtin(workgroup_id) wid: vec3<u32>) {
  let p = wid.x * 6u;
  let w = philox(vec4<u32>(m(p), m(p + 1u), m(p + 2u), m(p + 3u)), vec2<u32>(m(p + 4u), m(p + 5u)));
  for (var j = 0u; j < 4u; j++) { out[wid.x * 4u + j] = w[j]; }
}`;
    const pipeline = gpu.pipeline("test|philoxKat", ["write", "uniform"], () => source);
    const meta = Uint32Array.from(KAT.flatMap(([c, k]) => [...c, ...k]));
    const n = 4 * KAT.length;
    const out = gpu.alloc("int32", n) as GpuStorage;
    gpu.dispatch(pipeline, [out.buffer], { meta, workgroups: [KAT.length, 1, 1] });
    const words = [...await gpu.read(out, "int32", n)].map((w) => w >>> 0);
    gpu.free(out, "int32", n);
    KAT.forEach(([counter, , expected], v) => {
      assert.deepEqual(words.slice(4 * v, 4 * v + 4), expected, `counter [${counter}]`);
    });
  },
});

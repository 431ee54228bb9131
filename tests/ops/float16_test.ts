/**
 * float16 outside the conformance table (tests/ops/cases/float16.ts holds the numerics): ops
 * without float16 support refuse it by name, cast refuses int32, the webgpu backend stores
 * float16 packed (odd sizes too) and compiles f16 variants of the matmul and convolution
 * kernels, and f16_loads.ts rewrites only the reads of the buffers it names.
 */
import assert from "node:assert/strict";
import { withF16Inputs } from "../../ops/backends/webgpu/f16_loads.ts";
import {
  cast,
  conv1d,
  initWebGpu,
  matmul,
  relu,
  sum,
  tensor,
  TensorScope,
  webGpuBackend,
} from "../../ops/mod.ts";

const webgpuReady = await initWebGpu({ quiet: true });
const hasF16 = webgpuReady && webGpuBackend()!.hasFloat16 === true;
if (!hasF16) console.warn("float16_test: SKIPPING the webgpu tests: no WebGPU adapter with shader-f16");

Deno.test("ops without a float16 kernel refuse float16 inputs, naming the op", () => {
  using _scope = new TensorScope();
  const h = cast(tensor([1, -2, 3], [3]), "float16");
  assert.throws(() => relu(h), /map \(relu\): has no float16 kernel .* cast to float32 first/);
  assert.throws(() => sum(h), /sum: has no float16 kernel/);
  assert.throws(
    () => cast(tensor([1, 2], [2], { dtype: "int32" }), "float16"),
    /cast: converts between float/,
  );
});

Deno.test("a float16 GEMM takes a float32 bias and float16 operands of one dtype only", () => {
  using _scope = new TensorScope();
  const x = cast(tensor([1, 2, 3, 4, 5, 6], [1, 2, 3]), "float16");
  const w = tensor([1, 0, 1, 0], [2, 2, 1]);
  assert.throws(() => conv1d(x, w, null), /conv1d: dtypes differ \(float16, float32\)/);
  const w16 = cast(w, "float16");
  assert.throws(() => conv1d(x, w16, cast(tensor([1, 2], [2]), "float16")), /bias must be float32/);
  assert.equal(conv1d(x, w16, tensor([1, 2], [2])).dtype, "float32");
  const a16 = cast(tensor([1, 2, 3, 4], [2, 2]), "float16");
  assert.equal(matmul(a16, cast(tensor([1, 2], [1, 2]), "float16"), { transB: true }).dtype, "float32");
  assert.throws(() => matmul(a16, tensor([1, 2], [2, 1])), /matmul: dtypes differ/);
});

Deno.test({
  name: "webgpu stores odd-sized float16 tensors and runs matmul and convolutions with f16 loads",
  ignore: !hasF16,
  async fn() {
    using _scope = new TensorScope();
    const values = [1.5, -2.25, 65504, 1e-3, 3];
    const h = tensor(Float16Array.from(values), [5], { backend: "webgpu" });
    assert.deepEqual([...await h.data()], [...Float16Array.from(values)]);
    const x = cast(tensor([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 4], { backend: "webgpu" }), "float16");
    const depthwise = cast(tensor([1, -1, 2, 0.5], [2, 1, 2], { backend: "webgpu" }), "float16");
    const y = conv1d(x, depthwise, null, { groups: 2 });
    assert.deepEqual([...await y.data()], [-1, -1, -1, 13, 15.5, 18]);
    const full = cast(tensor([1, 0, 0, 1], [1, 2, 2], { backend: "webgpu" }), "float16");
    assert.deepEqual([...await conv1d(x, full, null).data()], [7, 9, 11]);
    const keys = webGpuBackend()!.pipelineKeys();
    assert.ok(keys.some((k) => k.startsWith("conv|depthwise|forward") && k.endsWith("|f16")), `${keys}`);
    assert.ok(keys.some((k) => k.startsWith("conv|gemm|forward") && k.endsWith("|f16")), `${keys}`);
    await matmul(x, x, { transB: true }).data();
    assert.ok(webGpuBackend()!.pipelineKeys().some((k) => k.startsWith("matmul|f16|f32")));
  },
});

Deno.test("withF16Inputs retypes the named buffers and wraps their reads, nested brackets included", () => {
  const src = `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> idx: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
fn f(i: u32) -> f32 { return x[u32(idx[i])] + idx[x[i] > 0.0] + max(x[0], 1.0); }`;
  const out = withF16Inputs(src, ["x"]);
  assert.ok(out.startsWith("enable f16;\n"));
  assert.match(out, /var<storage, read> x: array<f16>;/);
  assert.match(out, /var<storage, read> idx: array<f32>;/);
  assert.match(out, /var<storage, read_write> y: array<f32>;/);
  assert.match(
    out,
    /return f32\(x\[u32\(idx\[i\]\)\]\) \+ idx\[f32\(x\[i\]\) > 0\.0\] \+ max\(f32\(x\[0\]\), 1\.0\);/,
  );
  assert.throws(() => withF16Inputs(src, ["y"]), /no read-only f32 buffer "y"/);
});

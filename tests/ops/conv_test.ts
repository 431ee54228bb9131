/**
 * conv1d / conv2d details the conformance table does not cover: same-padding arithmetic,
 * errors, and the cpu engine's internal paths (column tiling through partial rows, the
 * TypeScript GEMM instead of OpenBLAS) against the PyTorch fixtures
 * (tests/fixtures/ops/make_conv.py) through autograd. The fixtures' values and gradients on
 * every backend, the float64 reference and the finite-difference checks live in
 * tests/ops/cases/conv.ts.
 */
import assert from "node:assert/strict";
import { conv1d, conv2d, type DType, samePadding, type Tensor, tensor } from "../../ops/mod.ts";
import { setColumnTiling } from "../../ops/backends/cpu/conv_buffers.ts";
import { useTypeScriptGemm } from "../../ops/backends/cpu/blas.ts";

interface Arr {
  shape: number[];
  data: number[];
}
interface FixtureCase {
  name: string;
  op: "conv1d" | "conv2d";
  // deno-lint-ignore no-explicit-any
  options: any;
  x: Arr;
  w: Arr;
  b: Arr | null;
  y: Arr;
  r: number[];
  dx: number[];
  dw: number[];
  db: number[] | null;
}

const fixture: { cases: FixtureCase[] } = JSON.parse(
  Deno.readTextFileSync(new URL("../fixtures/ops/conv.json", import.meta.url)),
);

function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0, at = -1;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i]));
    if (!(err <= worst)) [worst, at] = [err, i];
  }
  assert.ok(worst <= tol, `${what}: error ${worst} at ${at} (got ${actual[at]}, want ${expected[at]})`);
}

function run(c: FixtureCase, dtype: DType): void {
  const x = tensor(c.x.data, c.x.shape, { dtype, requiresGrad: true });
  const w = tensor(c.w.data, c.w.shape, { dtype, requiresGrad: true });
  const b = c.b ? tensor(c.b.data, c.b.shape, { dtype, requiresGrad: true }) : null;
  const y: Tensor = c.op === "conv1d" ? conv1d(x, w, b, c.options) : conv2d(x, w, b, c.options);
  const tol = dtype === "float64" ? 1e-10 : 2e-5;
  assert.deepEqual(y.shape, c.y.shape);
  assertClose(y.dataSync(), c.y.data, tol, `${c.op} ${c.name} y`);
  y.backward(tensor(c.r, c.y.shape, { dtype }));
  assertClose(x.grad!.dataSync(), c.dx, tol, `${c.op} ${c.name} dx`);
  assertClose(w.grad!.dataSync(), c.dw, tol, `${c.op} ${c.name} dw`);
  if (b) assertClose(b.grad!.dataSync(), c.db!, tol, `${c.op} ${c.name} db`);
}

Deno.test("samePadding() gives PyTorch's split for stride 1 and TensorFlow SAME for stride 2", () => {
  assert.deepEqual(samePadding(10, 3, 1, 1), [1, 1]);
  assert.deepEqual(samePadding(10, 4, 1, 1), [1, 2]); // odd total: the extra one after, like PyTorch
  assert.deepEqual(samePadding(10, 3, 1, 2), [2, 2]);
  // TF with K = 11: out = ceil(11 / 2) = 6, total = (6 - 1)·2 + 10 + 1 - 11 = 10
  assert.deepEqual(samePadding(11, 11, 2, 1), [5, 5]);
  assert.deepEqual(samePadding(12, 11, 2, 1), [4, 5]);
  assert.deepEqual(samePadding(4, 1, 2, 1), [0, 0]);
});

Deno.test("conv1d() with padding same and stride 2 gives ceil(T / 2) frames, as Jasper's first layer", () => {
  for (const t of [7, 8, 101]) {
    const y = conv1d(
      tensor(new Float32Array(2 * t), [1, 2, t]),
      tensor(new Float32Array(3 * 2 * 11), [3, 2, 11]),
      null,
      {
        stride: 2,
        padding: "same",
      },
    );
    assert.deepEqual(y.shape, [1, 3, Math.ceil(t / 2)]);
  }
});

Deno.test("conv1d() rejects mismatched channels and groups with a message naming the op", () => {
  const x = tensor(new Float32Array(2 * 6 * 5), [2, 6, 5]);
  assert.throws(
    () => conv1d(x, tensor(new Float32Array(4 * 4 * 3), [4, 4, 3]), null),
    /conv1d: w has 4 input channels/,
  );
  assert.throws(
    () => conv1d(x, tensor(new Float32Array(5 * 3 * 3), [5, 3, 3]), null, { groups: 2 }),
    /divisible by groups 2/,
  );
  assert.throws(() => conv1d(x, tensor(new Float32Array(4 * 6 * 9), [4, 6, 9]), null), /kernel span 9/);
});

Deno.test("conv1d() and conv2d() match PyTorch when the column buffer is tiled through partial rows", () => {
  const prev = setColumnTiling(64, 1);
  try {
    for (const c of fixture.cases) run(c, "float64");
  } finally {
    setColumnTiling(...prev);
  }
});

Deno.test("conv1d() and conv2d() match PyTorch with the TypeScript GEMM instead of OpenBLAS", () => {
  useTypeScriptGemm(true);
  try {
    for (const c of fixture.cases) {
      run(c, "float32");
      run(c, "float64");
    }
  } finally {
    useTypeScriptGemm(false);
  }
});

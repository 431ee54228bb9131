/**
 * batchNorm against PyTorch fixtures (tests/fixtures/ops/make_batch_norm.py): outputs, the
 * running statistics after the call (updated in place), and the gradients of sum(y · r), in
 * float32 and float64; plus in-place identity, masking invariance and errors. The float64
 * reference and finite-difference checks live in tests/ops/cases/batch_norm.ts.
 */
import assert from "node:assert/strict";
import { batchNorm, type DType, noGrad, tensor } from "../../ops/mod.ts";

interface Arr {
  shape: number[];
  data: number[];
}
interface FixtureCase {
  name: string;
  options: { training: boolean; momentum: number; eps: number };
  lengths: number[] | null;
  x: Arr;
  weight: Arr | null;
  bias: Arr | null;
  runningMean: Arr | null;
  runningVar: Arr | null;
  runningMeanAfter: number[] | null;
  runningVarAfter: number[] | null;
  y: Arr;
  r: number[];
  dx: number[];
  dweight: number[] | null;
  dbias: number[] | null;
}

const fixture: { cases: FixtureCase[] } = JSON.parse(
  Deno.readTextFileSync(new URL("../fixtures/ops/batch_norm.json", import.meta.url)),
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
  const opt = (a: Arr | null, grad: boolean) =>
    a ? tensor(a.data, a.shape, { dtype, requiresGrad: grad }) : null;
  const x = opt(c.x, true)!;
  const w = opt(c.weight, true), b = opt(c.bias, true);
  const rm = opt(c.runningMean, false), rv = opt(c.runningVar, false);
  const y = batchNorm(x, rm, rv, w, b, { ...c.options, lengths: c.lengths ?? undefined });
  const tol = dtype === "float64" ? 1e-10 : 5e-5;
  assertClose(y.dataSync(), c.y.data, tol, `${c.name} y`);
  if (rm) assertClose(rm.dataSync(), c.runningMeanAfter!, tol, `${c.name} running mean`);
  if (rv) assertClose(rv.dataSync(), c.runningVarAfter!, tol, `${c.name} running var`);
  y.backward(tensor(c.r, c.y.shape, { dtype }));
  assertClose(x.grad!.dataSync(), c.dx, tol, `${c.name} dx`);
  if (w) assertClose(w.grad!.dataSync(), c.dweight!, tol, `${c.name} dweight`);
  if (b) assertClose(b.grad!.dataSync(), c.dbias!, tol, `${c.name} dbias`);
}

for (const c of fixture.cases) {
  Deno.test(`batchNorm() matches PyTorch for ${c.name}: output, running statistics and gradients`, () => {
    run(c, "float32");
    run(c, "float64");
  });
}

Deno.test("batchNorm() updates the running tensors it was given, keeping their identity", () => {
  const x = tensor([1, 2, 3, 4, 10, 20, 30, 40], [2, 2, 2]);
  const rm = tensor([0, 0], [2]), rv = tensor([1, 1], [2]);
  const storageBefore = rm.storage;
  batchNorm(x, rm, rv, null, null, { training: true, momentum: 0.5 });
  assert.equal(rm.storage, storageBefore);
  // channel 0: values 1, 2, 10, 20 → mean 8.25, unbiased var 79.583…
  const m = rm.dataSync(), v = rv.dataSync();
  assert.ok(Math.abs(m[0] - 0.5 * 8.25) < 1e-5, `running mean ${m[0]}`);
  const unbiased = ((1 - 8.25) ** 2 + (2 - 8.25) ** 2 + (10 - 8.25) ** 2 + (20 - 8.25) ** 2) / 3;
  assert.ok(Math.abs(v[0] - (0.5 + 0.5 * unbiased)) < 1e-4, `running var ${v[0]}`);
  // eval mode leaves them alone
  batchNorm(x, rm, rv, null, null, { training: false });
  assert.deepEqual(rm.dataSync(), m);
});

Deno.test("batchNorm() with lengths gives the valid frames the same output whatever the padding holds", () => {
  const valid = [0.5, -1, 2, 3, 0.25, 1, -2, 4, 1.5];
  const make = (pad: number) =>
    // [N=1, C=1, T=12]: 9 valid frames then 3 padded ones
    tensor([...valid, pad, pad, pad], [1, 1, 12], { dtype: "float64" });
  const outs = [0, 1e6].map((pad) =>
    noGrad(() => batchNorm(make(pad), null, null, null, null, { training: true, lengths: [9] })).dataSync()
  );
  assertClose(outs[0].subarray(0, 9), outs[1].subarray(0, 9), 1e-12, "valid frames");
  // and equal to batch norm over the 9 valid frames alone
  const alone = batchNorm(tensor(valid, [1, 1, 9], { dtype: "float64" }), null, null, null, null, {
    training: true,
  }).dataSync();
  assertClose(outs[0].subarray(0, 9), alone, 1e-12, "valid frames vs unpadded");
});

Deno.test("batchNorm() rejects eval without running statistics and training on one value per channel", () => {
  const x = tensor([1, 2, 3, 4], [1, 4]);
  assert.throws(
    () => batchNorm(x, null, null, null, null, { training: false }),
    /eval mode .* needs runningMean/,
  );
  assert.throws(
    () => batchNorm(x, null, null, null, null, { training: true }),
    /more than 1 value per channel/,
  );
  assert.throws(
    () =>
      batchNorm(
        tensor(new Float32Array(8), [2, 2, 2]),
        tensor([0, 0, 0], [3]),
        tensor([1, 1, 1], [3]),
        null,
        null,
      ),
    /runningMean must be \[2\]/,
  );
});

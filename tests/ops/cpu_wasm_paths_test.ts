/**
 * The cpu backend's WASM kernels against its TypeScript kernels on the same inputs, at sizes
 * past the conformance cases': rows longer than a 32-element tile, 1–3 element tails, many rows.
 * Copies and sums must agree exactly; float32 arithmetic within a few ulp.
 */
import assert from "node:assert/strict";
import "../../ops/backends/cpu/mod.ts";
import {
  add,
  concat,
  conv1d,
  dropout,
  exp,
  logSoftmax,
  max,
  mul,
  pad,
  permute,
  randomNormal,
  relu,
  Rng,
  slice,
  softmax,
  sum,
  type Tensor,
  tensor,
  tidy,
  where,
} from "../../ops/mod.ts";
import { setCpuKernelPath } from "../../ops/backends/cpu/wasm/kernel_path.ts";

/** Runs `f` on both paths; returns [ts, wasm] outputs (forward values, then gradients). */
function bothPaths(inputs: Tensor[], f: (xs: Tensor[]) => Tensor): [number[], number[]] {
  const results: number[][] = [];
  for (const path of ["ts", "wasm"] as const) {
    const previous = setCpuKernelPath(path);
    try {
      results.push(tidy(() => {
        const y = f(inputs);
        const w = randomNormal(y.shape, new Rng(9));
        const values = [...y.dataSync()];
        if (inputs.some((x) => x.requiresGrad)) {
          sum(mul(y, w)).backward();
          for (const x of inputs) {
            if (x.grad) values.push(...x.grad.dataSync());
            x.grad = null;
          }
        }
        return values;
      }));
    } finally {
      setCpuKernelPath(previous);
    }
  }
  return [results[0], results[1]];
}

function assertAgree(name: string, [ts, wasm]: [number[], number[]], relTol: number): void {
  assert.equal(wasm.length, ts.length, `${name}: lengths`);
  for (let i = 0; i < ts.length; i++) {
    const err = Math.abs(ts[i] - wasm[i]);
    if (!(err <= relTol * Math.max(1, Math.abs(ts[i])))) {
      assert.fail(`${name}: element ${i} is ${wasm[i]} on WASM but ${ts[i]} on TypeScript`);
    }
  }
}

const rng = new Rng(5);
const leaf = (shape: number[]): Tensor => randomNormal(shape, rng, { requiresGrad: true });

Deno.test("WASM and TypeScript layout copies agree exactly on transposes, steps, concat and pad", () => {
  const x = leaf([3, 70, 45]), y = leaf([2, 5, 6, 7]);
  assertAgree("permute [0,2,1]", bothPaths([x], ([a]) => permute(a, [0, 2, 1])), 0);
  assertAgree("permute [2,0,1]", bothPaths([x], ([a]) => permute(a, [2, 0, 1])), 0);
  assertAgree("permute rank 4", bothPaths([y], ([a]) => permute(a, [3, 1, 0, 2])), 0);
  assertAgree(
    "stepped slice",
    bothPaths([x], ([a]) => slice(a, [null, { start: 3, end: 67, step: 3 }, { start: 1, end: 44, step: 2 }])),
    0,
  );
  assertAgree("concat", bothPaths([x, x], ([a, b]) => concat([a, b], -1)), 0);
  assertAgree("pad", bothPaths([x], ([a]) => pad(a, [5, 3])), 0);
});

Deno.test("WASM and TypeScript sums agree exactly over every axis set of a [6, 37, 41] tensor", () => {
  const x = leaf([6, 37, 41]);
  for (const axes of [[0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]]) {
    assertAgree(`sum over [${axes}]`, bothPaths([x], ([a]) => sum(a, axes)), 0);
  }
});

Deno.test("WASM and TypeScript softmax and logSoftmax agree along rows of 29 and 256", () => {
  for (const shape of [[50, 29], [3, 7, 256], [4, 1]]) {
    const x = leaf(shape);
    assertAgree(`softmax [${shape}]`, bothPaths([x], ([a]) => softmax(a, -1)), 1e-5);
    assertAgree(`logSoftmax [${shape}]`, bothPaths([x], ([a]) => logSoftmax(a, -1)), 1e-5);
  }
});

Deno.test("WASM and TypeScript elementwise kernels agree on a bias, a mask and tails of odd rows", () => {
  const x = leaf([4, 9, 37]), b = leaf([9, 1]);
  const mask = tensor(Int32Array.from({ length: 4 * 37 }, (_, i) => i % 3), [4, 1, 37]);
  assertAgree("bias + relu", bothPaths([x, b], ([a, c]) => relu(add(a, c))), 1e-6);
  assertAgree("exp", bothPaths([x], ([a]) => exp(a)), 1e-6);
  assertAgree("where", bothPaths([x, b], ([a, c]) => where(mask, a, c)), 0);
});

Deno.test("WASM and TypeScript dropout drop exactly the same elements, groups of 16 and tails alike", () => {
  for (const n of [5, 16, 37, 1000, 4099]) {
    const x = randomNormal([n], new Rng(1));
    const [ts, wasm] = bothPaths([x], ([a]) => dropout(a, 0.3, { rng: new Rng(n) }));
    assert.deepEqual(wasm, ts, `dropout of ${n} elements`);
    assert.ok(ts.some((v) => v === 0) || n < 16, "some elements are dropped");
  }
});

Deno.test("WASM and TypeScript depthwise conv1d agree forward and backward for k33 and dilation 2", () => {
  for (const [k, dilation, t] of [[33, 1, 150], [5, 2, 61], [3, 1, 7]]) {
    const x = leaf([2, 6, t]), w = leaf([6, 1, k]), b = leaf([6]);
    assertAgree(
      `depthwise k${k} dilation ${dilation} T ${t}`,
      bothPaths([x, w, b], ([a, c, d]) => conv1d(a, c, d, { padding: "same", dilation, groups: 6 })),
      1e-5,
    );
  }
});

Deno.test("WASM and TypeScript max agree exactly over runs of axes, NaN included", () => {
  const x = leaf([6, 37, 41]);
  for (const axes of [[2], [1], [0], [1, 2], [0, 1], [0, 1, 2]]) {
    assertAgree(`max over [${axes}]`, bothPaths([x], ([a]) => max(a, axes)), 0);
  }
  const withNaN = tensor([1, NaN, 3, 4, 5, 6, 7, 8, 9], [3, 3]);
  const [ts, wasm] = bothPaths([withNaN], ([a]) => max(a, 1));
  assert.deepEqual(wasm, ts);
  assert.ok(Number.isNaN(wasm[0]) && wasm[1] === 6 && wasm[2] === 9);
});

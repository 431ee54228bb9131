/**
 * Accuracy of the vectorised exp, log, tanh and pow (ops/backends/cpu/wasm/simd_math.ts)
 * against Math.* rounded to float32, over dense sweeps plus the edge cases: ±0, subnormal
 * inputs and results, ±Infinity, NaN, overflow and underflow. Errors are in float32 ulps of the
 * reference (subnormal results: in units of the smallest subnormal); the worst is printed.
 */
import assert from "node:assert/strict";
import { type Expr, X } from "../../ops/expr.ts";
import { buildMapKernel } from "../../ops/backends/cpu/wasm/map_wasm.ts";
import { heapAlloc, heapFree } from "../../ops/backends/cpu/wasm/memory.ts";

function ulpOf(v: number): number {
  const a = Math.abs(v);
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

/** Runs `expr` of x (and y) over the inputs in WASM. */
function runWasm(expr: Expr, xs: number[], ys?: number[]): Float32Array {
  const vars = ys ? ["x", "y"] : ["x"];
  const kernel = buildMapKernel(expr, vars, vars.map(() => false), vars.map(() => false));
  const x = heapAlloc("float32", xs.length) as Float32Array;
  const y = heapAlloc("float32", xs.length) as Float32Array;
  const out = heapAlloc("float32", xs.length) as Float32Array;
  x.set(xs);
  if (ys) y.set(ys);
  const ptrs = ys ? [x.byteOffset, 1, 1, 0, y.byteOffset, 1, 1, 0] : [x.byteOffset, 1, 1, 0];
  kernel(out.byteOffset, xs.length, 0, 1, 0, 0, ...ptrs);
  const result = out.slice();
  [x, y, out].forEach(heapFree);
  return result;
}

interface Worst {
  ulps: number;
  at: number;
  got: number;
  want: number;
}

/** Worst ulp error of `got` against `ref` rounded to float32; special values must match exactly. */
function worstUlps(xs: number[], got: Float32Array, ref: (i: number) => number): Worst {
  let worst: Worst = { ulps: 0, at: NaN, got: NaN, want: NaN };
  for (let i = 0; i < xs.length; i++) {
    const want = Math.fround(ref(i)), g = got[i];
    if (Number.isNaN(want) || !Number.isFinite(want) || want === 0) {
      const same = Object.is(g, want) || (Number.isNaN(g) && Number.isNaN(want)) ||
        (want === 0 && Math.abs(g) <= 2 ** -149);
      assert.ok(same, `at x = ${xs[i]}: got ${g}, expected ${want}`);
      continue;
    }
    const ulps = Math.abs(g - want) / ulpOf(want);
    if (!(ulps <= worst.ulps)) worst = { ulps, at: xs[i], got: g, want };
  }
  return worst;
}

const edges = [
  0,
  -0,
  2 ** -149,
  2 ** -140,
  2 ** -126,
  -(2 ** -149),
  Infinity,
  -Infinity,
  NaN,
  1e30,
  -1e30,
  3.4e38,
];
const f32 = (v: number): number => Math.fround(v);

function sweep(lo: number, hi: number, step: number): number[] {
  const xs: number[] = [];
  for (let v = lo; v <= hi; v += step) xs.push(f32(v));
  return xs;
}

Deno.test("vectorised exp is within 2 ulp of Math.exp over [-104, 89] and exact at the edges", () => {
  const xs = [...sweep(-104, 89, 2 ** -7), ...edges, 88.72, 88.73, -87.3, -103.2, -110, 100].map(f32);
  const w = worstUlps(xs, runWasm(X.exp(X.v("x")), xs), (i) => Math.exp(xs[i]));
  console.log(
    `exp: worst ${w.ulps.toFixed(2)} ulp at x = ${w.at} (${w.got} vs ${w.want}), ${xs.length} points`,
  );
  assert.ok(w.ulps <= 2, `exp error ${w.ulps} ulp at ${w.at}: ${w.got} vs ${w.want}`);
});

Deno.test("vectorised log is within 2 ulp of Math.log from subnormals to the largest float32", () => {
  const xs: number[] = [...edges, -1, -(2 ** -149), 1, f32(1 + 2 ** -23), f32(1 - 2 ** -24)];
  for (let e = -149; e < 128; e++) for (let m = 0; m < 512; m++) xs.push(2 ** e * (1 + m / 512));
  xs.forEach((v, i) => xs[i] = f32(v));
  const w = worstUlps(xs, runWasm(X.log(X.v("x")), xs), (i) => Math.log(xs[i]));
  console.log(
    `log: worst ${w.ulps.toFixed(2)} ulp at x = ${w.at} (${w.got} vs ${w.want}), ${xs.length} points`,
  );
  assert.ok(w.ulps <= 2, `log error ${w.ulps} ulp at ${w.at}`);
});

Deno.test("vectorised tanh is within 3 ulp of Math.tanh including tiny and saturating arguments", () => {
  const xs = [...sweep(-12, 12, 2 ** -9), ...edges, 1e-20, -1e-20, 1e-5, 0.6249, 0.6251, -0.625, 9.1, 50].map(
    f32,
  );
  const w = worstUlps(xs, runWasm(X.tanh(X.v("x")), xs), (i) => Math.tanh(xs[i]));
  console.log(
    `tanh: worst ${w.ulps.toFixed(2)} ulp at x = ${w.at} (${w.got} vs ${w.want}), ${xs.length} points`,
  );
  assert.ok(w.ulps <= 3, `tanh error ${w.ulps} ulp at ${w.at}`);
});

Deno.test("vectorised pow follows Math.pow's special cases and is within 1e-6 relative elsewhere", () => {
  const bases = [0.3, 1, 2, 7.5, -2, -0.5, 0, -0, Infinity, NaN, 1e-3, 123.25];
  const exps = [-2, -1.5, -1, 0, 0.5, 1, 2, 3, 2.5, NaN, 1e-3];
  const xs: number[] = [], ys: number[] = [];
  for (const b of bases) for (const e of exps) xs.push(f32(b)), ys.push(f32(e));
  const got = runWasm(X.pow(X.v("x"), X.v("y")), xs, ys);
  for (let i = 0; i < xs.length; i++) {
    const want = Math.fround(Math.pow(xs[i], ys[i]));
    if (!Number.isFinite(want) || want === 0) {
      assert.ok(
        Object.is(got[i], want) || (Number.isNaN(got[i]) && Number.isNaN(want)) || got[i] === want,
        `pow(${xs[i]}, ${ys[i]}): got ${got[i]}, expected ${want}`,
      );
    } else {
      assert.ok(
        Math.abs(got[i] - want) <= 1e-6 * Math.abs(want),
        `pow(${xs[i]}, ${ys[i]}): ${got[i]} vs ${want}`,
      );
    }
  }
});

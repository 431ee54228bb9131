/**
 * WebAssembly SIMD kernels of `map` (every entry of the elementwise table, ops/elementwise.ts,
 * forward and gradient): the table's expression is rendered to f32x4 instructions, once per
 * (table key, inputs' dtypes, which inputs are constant along a row), and compiled into a module
 * over the heap (memory.ts). The loop walks rows (row_layout.ts): four lanes at a time, then
 * the row's last 1–3 elements through lane 0 of the same vector code.
 *
 * Float32 output only, inputs float32 (or int32, e.g. the mask of `where`, converted on load),
 * all on the heap; anything else returns false and the TypeScript kernel (cpu/map.ts) runs.
 * Large calls split their rows across threads (thread_pool.ts); rows are independent, so the
 * result does not depend on the split.
 * The arithmetic is float32 throughout, where the TypeScript kernel computes in float64 and
 * rounds once on store; the difference is a few ulp (exp/log: simd_math.ts).
 */
import type { Expr } from "../../../expr.ts";
import type { MapAttrs } from "../../../elementwise.ts";
import type { TypedArray } from "../../../dtype.ts";
import type { Tensor } from "../../../tensor.ts";
import { type SimdOp, ValType, WasmCode } from "./encoder.ts";
import { emitExp, emitLog, emitPow, emitTanh } from "./simd_math.ts";
import { onHeap } from "./memory.ts";
import { compileKernel } from "./row_loops.ts";
import { planRows } from "./row_layout.ts";
import { cpuKernelPath } from "./kernel_path.ts";
import { runRowRanges } from "./thread_pool.ts";

type MapKernel = (
  out: number,
  inner: number,
  rowLo: number,
  rowHi: number,
  a: number,
  b: number,
  ...rest: number[]
) => void;

const BIN: Record<string, SimdOp> = {
  "+": "f32x4.add",
  "-": "f32x4.sub",
  "*": "f32x4.mul",
  "/": "f32x4.div",
};
const CMP: Record<string, SimdOp> = {
  ">": "f32x4.gt",
  "<": "f32x4.lt",
  ">=": "f32x4.ge",
  "<=": "f32x4.le",
  "!=": "f32x4.ne",
};

/** Emits `e` over f32x4 values; `local(name)` is the local holding variable `name`. */
export function emitExpr(c: WasmCode, e: Expr, local: (name: string) => number): void {
  const r = (x: Expr): void => emitExpr(c, x, local);
  switch (e.k) {
    case "var":
      c.get(local(e.name));
      return;
    case "num":
      c.f32x4(e.v);
      return;
    case "neg":
      r(e.e);
      c.simd("f32x4.neg");
      return;
    case "bin":
      r(e.l);
      r(e.r);
      c.simd(BIN[e.op]);
      return;
    case "cmp":
      r(e.l);
      r(e.r);
      c.simd(CMP[e.op]);
      return;
    case "finite":
      // x − x is 0 for finite lanes and NaN for NaN and ±∞ (WASM keeps IEEE semantics, so
      // this is not folded away), and the comparison makes the lane mask `sel` takes.
      r(e.e);
      r(e.e);
      c.simd("f32x4.sub");
      c.f32x4(0);
      c.simd("f32x4.eq");
      return;
    case "sel":
      r(e.t);
      r(e.f);
      r(e.cond);
      c.simd("v128.bitselect");
      return;
    case "fn":
      e.args.forEach(r);
      switch (e.fn) {
        case "exp":
          return emitExp(c);
        case "log":
          return emitLog(c);
        case "tanh":
          return emitTanh(c);
        case "pow":
          return emitPow(c);
        case "sqrt":
          c.simd("f32x4.sqrt");
          return;
        case "abs":
          c.simd("f32x4.abs");
          return;
        case "max":
          c.simd("f32x4.max");
          return;
        case "min":
          c.simd("f32x4.min");
          return;
      }
  }
}

/**
 * Builds the kernel of `expr` over `vars`: isInt[k] says input k is int32, rowConst[k] that it
 * holds one value per row. Signature: (out, inner, rowLo, rowHi, a, b, then ptr, div, mod,
 * rowStride for each input); it computes rows [rowLo, rowHi); pointers and strides in bytes.
 */
export function buildMapKernel(
  expr: Expr,
  vars: readonly string[],
  isInt: readonly boolean[],
  rowConst: readonly boolean[],
): MapKernel {
  const n = vars.length;
  const params = [ValType.i32, ValType.i32, ValType.i32, ValType.i32, ValType.f32, ValType.f32];
  for (let k = 0; k < n; k++) params.push(ValType.i32, ValType.i32, ValType.i32, ValType.i32);
  const c = new WasmCode(params.length);
  const [OUT, INNER, ROW_LO, ROW_HI, A, B] = [0, 1, 2, 3, 4, 5];
  const arg = (k: number, field: number): number => 6 + 4 * k + field;
  const va = c.local(ValType.v128), vb = c.local(ValType.v128);
  const row = c.local(ValType.i32), j = c.local(ValType.i32), o = c.local(ValType.i32);
  const innerBytes = c.local(ValType.i32), endV = c.local(ValType.i32);
  const base = vars.map(() => c.local(ValType.i32));
  const v = vars.map(() => c.local(ValType.v128));
  const local = (name: string): number => (name === "a" ? va : name === "b" ? vb : v[vars.indexOf(name)]);

  const load = (k: number, kind: "v128.load" | "v128.load32_zero" | "v128.load32_splat"): void => {
    c.get(base[k]);
    if (kind !== "v128.load32_splat") c.get(j).op("i32.add");
    c.simdMem(kind, kind === "v128.load" ? 2 : 2);
    if (isInt[k]) c.simd("f32x4.convert_i32x4_s");
    c.set(v[k]);
  };

  c.get(A).simd("f32x4.splat").set(va);
  c.get(B).simd("f32x4.splat").set(vb);
  c.get(INNER).i32(2).op("i32.shl").tee(innerBytes).i32(-16).op("i32.and").set(endV);
  c.get(ROW_LO).set(row);
  c.begin("block").begin("loop");
  c.get(row).get(ROW_HI).op("i32.ge_u").brIf(1);
  for (let k = 0; k < n; k++) {
    // base_k = ptr + ⌊row / div⌋ mod mod · rowStride
    c.get(arg(k, 0)).get(row).get(arg(k, 1)).op("i32.div_u").get(arg(k, 2)).op("i32.rem_u");
    c.get(arg(k, 3)).op("i32.mul").op("i32.add").set(base[k]);
    if (rowConst[k]) load(k, "v128.load32_splat");
  }
  c.get(OUT).get(row).get(innerBytes).op("i32.mul").op("i32.add").set(o);
  c.i32(0).set(j);
  // Four lanes at a time.
  c.begin("block").begin("loop");
  c.get(j).get(endV).op("i32.ge_u").brIf(1);
  for (let k = 0; k < n; k++) if (!rowConst[k]) load(k, "v128.load");
  c.get(o).get(j).op("i32.add");
  emitExpr(c, expr, local);
  c.simdMem("v128.store", 2);
  c.get(j).i32(16).op("i32.add").set(j);
  c.br(0).end().end();
  // The row's last 1–3 elements, one at a time in lane 0.
  c.begin("block").begin("loop");
  c.get(j).get(innerBytes).op("i32.ge_u").brIf(1);
  for (let k = 0; k < n; k++) if (!rowConst[k]) load(k, "v128.load32_zero");
  c.get(o).get(j).op("i32.add");
  emitExpr(c, expr, local);
  c.storeLane32(0);
  c.get(j).i32(4).op("i32.add").set(j);
  c.br(0).end().end();
  c.get(row).i32(1).op("i32.add").set(row);
  c.br(0).end().end();

  return compileKernel<MapKernel>("map", params, c);
}

const kernels = new Map<string, MapKernel>();

/**
 * Runs `map` in WASM into `out` when the dtypes, storage and layout allow; false otherwise (the
 * caller runs the TypeScript kernel). `data[k]` is input k's array.
 */
export function wasmMap(
  attrs: MapAttrs,
  inputs: readonly Tensor[],
  data: readonly TypedArray[],
  out: TypedArray,
  outShape: readonly number[],
): boolean {
  if (cpuKernelPath() !== "wasm" || !(out instanceof Float32Array) || !onHeap(out)) return false;
  for (let k = 0; k < inputs.length; k++) {
    const d = data[k];
    if (!(d instanceof Float32Array || d instanceof Int32Array) || !onHeap(d)) return false;
  }
  const layout = planRows(inputs.map((t) => (t.size === 1 ? [] : t.shape)), outShape);
  if (!layout) return false;
  const isInt = data.map((d) => d instanceof Int32Array);
  const rowConst = layout.inputs.map((i) => i.innerStride === 0);
  const key = `${attrs.key}|${attrs.vars.join(",")}|${isInt.map(Number).join("")}|${
    rowConst.map(Number).join("")
  }`;
  let kernel = kernels.get(key);
  if (!kernel) kernels.set(key, kernel = buildMapKernel(attrs.expr, attrs.vars, isInt, rowConst));
  const args: number[] = [];
  for (let k = 0; k < inputs.length; k++) {
    const li = layout.inputs[k];
    args.push(data[k].byteOffset, li.div, li.mod, li.rowStride * 4);
  }
  const { inner, rows } = layout;
  // Rows are independent: threads take contiguous row ranges (thread_pool.ts).
  const work = (inputs.length + 1) * out.length;
  runRowRanges(kernel, rows, work, (lo, hi) => [out.byteOffset, inner, lo, hi, attrs.a, attrs.b, ...args]);
  return true;
}

/**
 * A tiny expression language for elementwise ops, rendered to TypeScript (cpu), WGSL (webgpu)
 * and CUDA C (cuda, via NVRTC), so that one table defines every elementwise forward and
 * backward and the backends cannot drift apart.
 *
 * Variables are named inputs (x, y, c, g, out); `a` and `b` are scalar attributes.
 * Values are float; comparisons yield booleans usable only inside `sel`.
 */

/** An elementwise expression. */
export type Expr =
  | { k: "var"; name: string }
  | { k: "num"; v: number }
  | { k: "fn"; fn: "exp" | "log" | "sqrt" | "tanh" | "abs" | "pow" | "max" | "min"; args: Expr[] }
  | { k: "bin"; op: "+" | "-" | "*" | "/"; l: Expr; r: Expr }
  | { k: "neg"; e: Expr }
  | { k: "cmp"; op: ">" | "<" | ">=" | "<=" | "!="; l: Expr; r: Expr }
  | { k: "finite"; e: Expr }
  | { k: "sel"; cond: Expr; t: Expr; f: Expr };

type E = Expr | number;
const lift = (e: E): Expr => typeof e === "number" ? { k: "num", v: e } : e;

/** Expression builders. */
export const X = {
  v: (name: string): Expr => ({ k: "var", name }),
  add: (l: E, r: E): Expr => ({ k: "bin", op: "+", l: lift(l), r: lift(r) }),
  sub: (l: E, r: E): Expr => ({ k: "bin", op: "-", l: lift(l), r: lift(r) }),
  mul: (l: E, r: E): Expr => ({ k: "bin", op: "*", l: lift(l), r: lift(r) }),
  div: (l: E, r: E): Expr => ({ k: "bin", op: "/", l: lift(l), r: lift(r) }),
  neg: (e: E): Expr => ({ k: "neg", e: lift(e) }),
  exp: (e: E): Expr => ({ k: "fn", fn: "exp", args: [lift(e)] }),
  log: (e: E): Expr => ({ k: "fn", fn: "log", args: [lift(e)] }),
  sqrt: (e: E): Expr => ({ k: "fn", fn: "sqrt", args: [lift(e)] }),
  tanh: (e: E): Expr => ({ k: "fn", fn: "tanh", args: [lift(e)] }),
  abs: (e: E): Expr => ({ k: "fn", fn: "abs", args: [lift(e)] }),
  pow: (l: E, r: E): Expr => ({ k: "fn", fn: "pow", args: [lift(l), lift(r)] }),
  max: (l: E, r: E): Expr => ({ k: "fn", fn: "max", args: [lift(l), lift(r)] }),
  min: (l: E, r: E): Expr => ({ k: "fn", fn: "min", args: [lift(l), lift(r)] }),
  gt: (l: E, r: E): Expr => ({ k: "cmp", op: ">", l: lift(l), r: lift(r) }),
  lt: (l: E, r: E): Expr => ({ k: "cmp", op: "<", l: lift(l), r: lift(r) }),
  ge: (l: E, r: E): Expr => ({ k: "cmp", op: ">=", l: lift(l), r: lift(r) }),
  le: (l: E, r: E): Expr => ({ k: "cmp", op: "<=", l: lift(l), r: lift(r) }),
  ne: (l: E, r: E): Expr => ({ k: "cmp", op: "!=", l: lift(l), r: lift(r) }),
  /** True where e is neither NaN nor ±∞ (a boolean, like the comparisons). */
  finite: (e: E): Expr => ({ k: "finite", e: lift(e) }),
  /** `cond ? t : f` */
  sel: (cond: Expr, t: E, f: E): Expr => ({ k: "sel", cond, t: lift(t), f: lift(f) }),
};

/** Target language of a rendering. */
export type Dialect = "ts" | "wgsl" | "cuda";

/** Renders `e` as source code in `dialect`; `name` maps a variable to its source text. */
export function renderExpr(e: Expr, dialect: Dialect, name: (v: string) => string): string {
  const r = (x: Expr): string => renderExpr(x, dialect, name);
  switch (e.k) {
    case "var":
      return name(e.name);
    case "num":
      return numLiteral(e.v, dialect);
    case "neg":
      return `(-${r(e.e)})`;
    case "bin":
      return `(${r(e.l)} ${e.op} ${r(e.r)})`;
    case "cmp":
      return `(${r(e.l)} ${e.op} ${r(e.r)})`;
    case "finite":
      // WGSL lets implementations assume that no NaN or infinity exists, so a test written as a
      // float comparison (x - x == 0) may be folded away; the exponent bits cannot be.
      if (dialect === "wgsl") return `((bitcast<u32>(f32(${r(e.e)})) & 0x7f800000u) != 0x7f800000u)`;
      return dialect === "ts" ? `Number.isFinite(${r(e.e)})` : `isfinite(${r(e.e)})`;
    case "sel":
      if (dialect === "ts" && e.f.k === "num" && e.f.v === 0) {
        // cond ? t : 0 (ReLU's gradient) as t·cond + 0, without the branch that mispredicts on
        // zero-mean data (+ 0 turns −t·0 = −0 into 0, so only a −0 that passes through may lose its
        // sign); a non-finite t takes the select, so ∞·0 never turns into NaN.
        const t = r(e.t);
        return `(${t} - ${t} === 0 ? ${t} * +${r(e.cond)} + 0 : (${r(e.cond)} ? ${t} : 0))`;
      }
      return dialect === "wgsl"
        ? `select(${r(e.f)}, ${r(e.t)}, ${r(e.cond)})`
        : `(${r(e.cond)} ? ${r(e.t)} : ${r(e.f)})`;
    case "fn": {
      const args = e.args.map(r).join(", ");
      const [l, rr] = e.args;
      if (dialect === "ts" && e.fn === "max" && rr.k === "num" && rr.v === 0) {
        // max(x, 0) (ReLU) as (x + |x|) / 2: V8 compiles Math.max to compares and jumps, which
        // mispredict on every other element of zero-mean data (5 ns instead of 0.7 ns an element).
        // The one branch left goes to Math.max only when x + |x| is not finite (x is NaN or ±∞,
        // or a float64 beyond 8.9e307), so it predicts perfectly.
        const x = r(l), s = `(${x} + Math.abs(${x}))`;
        return `(${s} - ${s} === 0 ? 0.5 * ${s} : Math.max(${x}, 0))`;
      }
      if (dialect === "ts") return `Math.${e.fn}(${args})`;
      if (dialect === "wgsl") return `${e.fn}(${args})`;
      const cuda = {
        exp: "expf",
        log: "logf",
        sqrt: "sqrtf",
        tanh: "tanhf",
        abs: "fabsf",
        pow: "powf",
        max: "fmaxf",
        min: "fminf",
      };
      return `${cuda[e.fn]}(${args})`;
    }
  }
}

function numLiteral(v: number, dialect: Dialect): string {
  if (!Number.isFinite(v)) {
    if (dialect === "ts") return String(v);
    if (dialect === "cuda") {
      return Number.isNaN(v)
        ? "__int_as_float(0x7fc00000)"
        : v > 0
        ? "__int_as_float(0x7f800000)"
        : "__int_as_float(0xff800000)";
    }
    return Number.isNaN(v)
      ? "bitcast<f32>(0x7fc00000u)"
      : v > 0
      ? "bitcast<f32>(0x7f800000u)"
      : "bitcast<f32>(0xff800000u)";
  }
  const s = Number.isInteger(v) ? `${v}.0` : String(v);
  return dialect === "cuda" ? `${s}f` : s;
}

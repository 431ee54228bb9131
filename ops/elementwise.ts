/**
 * Elementwise ops with broadcasting, all defined by one table of forward and gradient
 * expressions (ops/expr.ts). A single op, `map`, evaluates any table entry; each backend
 * implements `map` once by rendering the expressions to its own language.
 *
 * Forward expressions read x (, y, z, w, c); gradient expressions read g (the output gradient),
 * the inputs, `out` (the forward result) and the scalar attributes a, b.
 */
import type { DType } from "./dtype.ts";
import { defineOp, type OpDef } from "./op_registry.ts";
import { runOp } from "./tape.ts";
import { type Expr, X } from "./expr.ts";
import { broadcastShapes, type Shape, shapesEqual } from "./shape.ts";
import { Tensor } from "./tensor.ts";
import { scalar } from "./creation.ts";
import { reshape } from "./reshape.ts";
import { sum } from "./reduce_sum.ts";

const x = X.v("x"), y = X.v("y"), z = X.v("z"), w = X.v("w"), c = X.v("c"), g = X.v("g"), out = X.v("out");
const a = X.v("a"), b = X.v("b");

/** One elementwise op: its inputs, forward, and the gradient with respect to each input. */
export interface ElementwiseDef {
  /** Input variable names, in argument order. */
  readonly inputs: readonly string[];
  readonly forward: Expr;
  /** d(out)/d(input_i) · g for each input; null where the input is not differentiable. */
  readonly grads: readonly (Expr | null)[];
}

/** The table. Names are the public function names. */
export const elementwiseOps = {
  add: { inputs: ["x", "y"], forward: X.add(x, y), grads: [g, g] },
  sub: { inputs: ["x", "y"], forward: X.sub(x, y), grads: [g, X.neg(g)] },
  mul: { inputs: ["x", "y"], forward: X.mul(x, y), grads: [X.mul(g, y), X.mul(g, x)] },
  div: { inputs: ["x", "y"], forward: X.div(x, y), grads: [X.div(g, y), X.neg(X.div(X.mul(g, out), y))] },
  pow: {
    inputs: ["x", "y"],
    forward: X.pow(x, y),
    grads: [
      X.sel(X.ne(y, 0), X.mul(g, X.mul(y, X.pow(x, X.sub(y, 1)))), 0),
      X.sel(X.gt(x, 0), X.mul(g, X.mul(out, X.log(x))), 0),
    ],
  },
  maximum: {
    inputs: ["x", "y"],
    forward: X.max(x, y),
    grads: [X.sel(X.ge(x, y), g, 0), X.sel(X.lt(x, y), g, 0)],
  },
  minimum: {
    inputs: ["x", "y"],
    forward: X.min(x, y),
    grads: [X.sel(X.le(x, y), g, 0), X.sel(X.gt(x, y), g, 0)],
  },
  neg: { inputs: ["x"], forward: X.neg(x), grads: [X.neg(g)] },
  exp: { inputs: ["x"], forward: X.exp(x), grads: [X.mul(g, out)] },
  log: { inputs: ["x"], forward: X.log(x), grads: [X.div(g, x)] },
  sqrt: { inputs: ["x"], forward: X.sqrt(x), grads: [X.div(g, X.mul(2, out))] },
  abs: { inputs: ["x"], forward: X.abs(x), grads: [X.sel(X.gt(x, 0), g, X.sel(X.lt(x, 0), X.neg(g), 0))] },
  relu: { inputs: ["x"], forward: X.max(x, 0), grads: [X.sel(X.gt(x, 0), g, 0)] },
  /** Clipped ReLU: min(max(x, a), b), e.g. a = 0, b = 20 as in DeepSpeech2 and Wave2Letter+. */
  hardtanh: {
    inputs: ["x"],
    forward: X.min(X.max(x, a), b),
    grads: [X.sel(X.gt(x, a), X.sel(X.lt(x, b), g, 0), 0)],
  },
  sigmoid: {
    inputs: ["x"],
    forward: X.div(1, X.add(1, X.exp(X.neg(x)))),
    grads: [X.mul(g, X.mul(out, X.sub(1, out)))],
  },
  tanh: { inputs: ["x"], forward: X.tanh(x), grads: [X.mul(g, X.sub(1, X.mul(out, out)))] },
  /**
   * relu(x + y) in one pass (a bias or a residual, then ReLU). The gradient reads `out`, as
   * torch's threshold_backward does: out > 0 exactly where x + y > 0, so nothing else is saved.
   */
  addRelu: {
    inputs: ["x", "y"],
    forward: X.max(X.add(x, y), 0),
    grads: [X.sel(X.gt(out, 0), g, 0), X.sel(X.gt(out, 0), g, 0)],
  },
  /**
   * relu(x + y) · z · w: the TDNN sub-block's batch-norm output plus residual, ReLU, dropout mask
   * (0 or 1/(1-p)) and frame mask in one pass. The gradient tests x + y rather than `out`,
   * since out can underflow to 0 where x + y > 0 when z·w is small.
   */
  addReluMasked: {
    inputs: ["x", "y", "z", "w"],
    forward: X.mul(X.mul(X.max(X.add(x, y), 0), z), w),
    grads: [
      X.sel(X.gt(X.add(x, y), 0), X.mul(X.mul(g, z), w), 0),
      X.sel(X.gt(X.add(x, y), 0), X.mul(X.mul(g, z), w), 0),
      X.mul(X.mul(g, X.max(X.add(x, y), 0)), w),
      X.mul(X.mul(g, X.max(X.add(x, y), 0)), z),
    ],
  },
  /** min(max(x + y, a), b) · z · w: `addReluMasked` with the clipped ReLU (a = 0, b = 20). */
  addHardtanhMasked: {
    inputs: ["x", "y", "z", "w"],
    forward: X.mul(X.mul(X.min(X.max(X.add(x, y), a), b), z), w),
    grads: [
      X.sel(X.gt(X.add(x, y), a), X.sel(X.lt(X.add(x, y), b), X.mul(X.mul(g, z), w), 0), 0),
      X.sel(X.gt(X.add(x, y), a), X.sel(X.lt(X.add(x, y), b), X.mul(X.mul(g, z), w), 0), 0),
      X.mul(X.mul(g, X.min(X.max(X.add(x, y), a), b)), w),
      X.mul(X.mul(g, X.min(X.max(X.add(x, y), a), b)), z),
    ],
  },
  /** x·y + z in one pass, where mul then add take two: the optimizers' momentum and update steps. */
  mulAdd: { inputs: ["x", "y", "z"], forward: X.add(X.mul(x, y), z), grads: [X.mul(g, y), X.mul(g, x), g] },
  /** c != 0 ? x : y (c is a mask of any dtype). */
  where: {
    inputs: ["c", "x", "y"],
    forward: X.sel(X.ne(c, 0), x, y),
    grads: [null, X.sel(X.ne(c, 0), g, 0), X.sel(X.ne(c, 0), 0, g)],
  },
  /** 1 where x is finite, 0 where it is NaN or ±∞: the on-device check of a training step. */
  finiteMask: { inputs: ["x"], forward: X.sel(X.finite(x), 1, 0), grads: [null] },
  /** Copies x, broadcasting it to the attribute shape. */
  identity: { inputs: ["x"], forward: x, grads: [g] },
} satisfies Record<string, ElementwiseDef>;

/** Name of a table entry. */
export type ElementwiseName = keyof typeof elementwiseOps;

/** Attributes of the `map` op. */
export interface MapAttrs {
  /** Cache key for compiled kernels: the table name, plus ".d<i>" for a gradient. */
  readonly key: string;
  readonly expr: Expr;
  /** Variable name of each input, in input order. */
  readonly vars: readonly string[];
  /** Scalar attributes. */
  readonly a: number;
  readonly b: number;
  /** Table entry this map computes the forward of (gradient maps have none). */
  readonly forwardOf?: ElementwiseName;
  /** Broadcast the result to this shape too (broadcastTo). */
  readonly outShape?: Shape;
  /** Output dtype; defaults to the dtype of the first non-mask input. */
  readonly dtype?: DType;
}

/** Evaluates an expression over broadcast inputs. Kernels: ops/backends/<name>/map.ts. */
export const mapOp: OpDef<MapAttrs> = defineOp<MapAttrs>({
  name: "map",
  outputs(inputs, attrs) {
    let shape: Shape = attrs.outShape ?? [];
    for (const t of inputs) shape = broadcastShapes(shape, t.shape);
    if (attrs.outShape && !shapesEqual(shape, attrs.outShape)) {
      throw new RangeError(`Cannot broadcast [${inputs[0].shape}] to [${attrs.outShape}]`);
    }
    // Masks and indices may be int32; the result takes the first floating input's dtype.
    const dtype = attrs.dtype ??
      (inputs.find((t, i) => attrs.vars[i] !== "c" && t.dtype !== "int32") ?? inputs[0]).dtype;
    return [{ shape, dtype }];
  },
  saveInputs: (attrs) => {
    if (!attrs.forwardOf) return [];
    const def: ElementwiseDef = elementwiseOps[attrs.forwardOf];
    const used = new Set(def.grads.flatMap((e) => (e ? varsOf(e) : [])));
    return def.inputs.flatMap((v, i) => (used.has(v) ? [i] : []));
  },
  saveOutputs: (attrs) => {
    if (!attrs.forwardOf) return [];
    const def: ElementwiseDef = elementwiseOps[attrs.forwardOf];
    return def.grads.some((e) => e && varsOf(e).includes("out")) ? [0] : [];
  },
  backward({ grads, inputs, outputs, inputShapes, attrs, needsGrad }) {
    if (!attrs.forwardOf) {
      throw new Error(`map "${attrs.key}" has no gradient (gradients are first-order only)`);
    }
    const def: ElementwiseDef = elementwiseOps[attrs.forwardOf];
    const gOut = grads[0]!;
    const byName = new Map<string, Tensor>([["g", gOut]]);
    def.inputs.forEach((v, i) => inputs[i] && byName.set(v, inputs[i]!));
    if (outputs[0]) byName.set("out", outputs[0]);
    // Inputs whose gradients are the same expression (a fused op's x and y, e.g. the
    // activation's input and the bias or residual added to it) share one pass over g.
    const firstWithExpr = new Map<string, number>();
    const full: Tensor[] = [];
    return def.grads.map((expr, i) => {
      if (!expr || !needsGrad[i]) return null;
      const text = JSON.stringify(expr);
      const shared = firstWithExpr.get(text);
      if (shared !== undefined) return sumTo(full[shared], inputShapes[i]);
      firstWithExpr.set(text, i);
      const vars = varsOf(expr).filter((v) => v !== "a" && v !== "b");
      const gi = runOp(mapOp, vars.map((v) => byName.get(v)!), {
        key: `${attrs.forwardOf}.d${i}`,
        expr,
        vars,
        a: attrs.a,
        b: attrs.b,
        outShape: gOut.shape,
        dtype: gOut.dtype,
      })[0];
      full[i] = gi;
      return sumTo(gi, inputShapes[i]);
    });
  },
});

/** Variable names an expression reads, in first-use order. */
export function varsOf(e: Expr): string[] {
  const seen: string[] = [];
  const walk = (n: Expr): void => {
    if (n.k === "var") {
      if (!seen.includes(n.name)) seen.push(n.name);
    } else if (n.k === "fn") n.args.forEach(walk);
    else if (n.k === "bin" || n.k === "cmp") {
      walk(n.l);
      walk(n.r);
    } else if (n.k === "neg" || n.k === "finite") walk(n.e);
    else if (n.k === "sel") {
      walk(n.cond);
      walk(n.t);
      walk(n.f);
    }
  };
  walk(e);
  return seen;
}

/** Sums a broadcast gradient back down to `shape` (the inverse of broadcasting). */
export function sumTo(t: Tensor, shape: Shape): Tensor {
  if (shapesEqual(t.shape, shape)) return t;
  const lead = t.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < t.rank; i++) if (i < lead || shape[i - lead] === 1 && t.shape[i] !== 1) axes.push(i);
  return reshape(sum(t, axes, { keepDims: true }), shape);
}

function asTensor(v: Tensor | number, like: Tensor): Tensor {
  return v instanceof Tensor
    ? v
    : scalar(v, { dtype: like.dtype === "int32" ? "float32" : like.dtype, backend: like.backend.name });
}

/** Applies table entry `name` to its inputs (numbers become scalars). */
export function elementwise(
  name: ElementwiseName,
  args: readonly (Tensor | number)[],
  attrs: { a?: number; b?: number; outShape?: Shape } = {},
): Tensor {
  const def: ElementwiseDef = elementwiseOps[name];
  const like = args.find((v) => v instanceof Tensor) as Tensor | undefined;
  if (!like) throw new TypeError(`${name}() needs at least one tensor argument`);
  const inputs = args.map((v) => asTensor(v, like));
  return runOp(mapOp, inputs, {
    key: name,
    expr: def.forward,
    vars: def.inputs,
    a: attrs.a ?? 0,
    b: attrs.b ?? 0,
    forwardOf: name,
    outShape: attrs.outShape,
  })[0];
}

/** x + y, broadcasting. */
export function add(x: Tensor | number, y: Tensor | number): Tensor {
  return elementwise("add", [x, y]);
}
/** x - y, broadcasting. */
export function sub(x: Tensor | number, y: Tensor | number): Tensor {
  return elementwise("sub", [x, y]);
}
/** x * y, broadcasting. */
export function mul(x: Tensor | number, y: Tensor | number): Tensor {
  return elementwise("mul", [x, y]);
}
/**
 * x·y + z, broadcasting, in one pass over memory (PyTorch's `addcmul` with value 1).
 *
 * @example
 * ```ts
 * const next = mulAdd(momentum, 0.9, grad); // 0.9·m + g
 * ```
 */
export function mulAdd(x: Tensor | number, y: Tensor | number, z: Tensor | number): Tensor {
  return elementwise("mulAdd", [x, y, z]);
}
/** x / y, broadcasting. */
export function div(x: Tensor | number, y: Tensor | number): Tensor {
  return elementwise("div", [x, y]);
}
/** x ** y, broadcasting. */
export function pow(x: Tensor | number, y: Tensor | number): Tensor {
  return elementwise("pow", [x, y]);
}
/** Elementwise maximum. */
export function maximum(x: Tensor | number, y: Tensor | number): Tensor {
  return elementwise("maximum", [x, y]);
}
/** Elementwise minimum. */
export function minimum(x: Tensor | number, y: Tensor | number): Tensor {
  return elementwise("minimum", [x, y]);
}
/** -x */
export function neg(x: Tensor): Tensor {
  return elementwise("neg", [x]);
}
/** e^x */
export function exp(x: Tensor): Tensor {
  return elementwise("exp", [x]);
}
/** Natural logarithm. */
export function log(x: Tensor): Tensor {
  return elementwise("log", [x]);
}
/** Square root. */
export function sqrt(x: Tensor): Tensor {
  return elementwise("sqrt", [x]);
}
/** |x| */
export function abs(x: Tensor): Tensor {
  return elementwise("abs", [x]);
}
/** max(x, 0) */
export function relu(x: Tensor): Tensor {
  return elementwise("relu", [x]);
}
/** max(x + y, 0), broadcasting, in one pass: a bias or residual add then ReLU (`relu(add(x, y))`). */
export function addRelu(x: Tensor, y: Tensor | number): Tensor {
  return elementwise("addRelu", [x, y]);
}
/** The multipliers of `addReluMasked` and `addHardtanhMasked`; an absent one is 1. */
export interface ActivationMasks {
  /** Typically a dropout mask: 0 where dropped, 1/(1-p) elsewhere (`dropoutMask`; null: none). */
  mask?: Tensor | null;
  /** Typically the [N, 1, T] mask of valid frames (null: none). */
  frameMask?: Tensor | null;
}
/**
 * relu(x + y) · mask · frameMask, broadcasting, in one pass: what
 * `mul(mul(relu(add(x, y)), mask), frameMask)` computes, with one backward pass for x and y
 * together. Pass 0 for y when nothing is added.
 *
 * @example
 * ```ts
 * const h = addReluMasked(bnOut, residual, { mask: dropoutMask(bnOut, 0.2, { rng }), frameMask });
 * ```
 */
export function addReluMasked(x: Tensor, y: Tensor | number, masks: ActivationMasks = {}): Tensor {
  return elementwise("addReluMasked", [x, y, masks.mask ?? 1, masks.frameMask ?? 1]);
}
/**
 * min(max(x + y, minVal), maxVal) · mask · frameMask in one pass: `addReluMasked` with
 * hardtanh, e.g. (0, 20), the clipped ReLU of Wave2Letter+ and DeepSpeech2.
 */
export function addHardtanhMasked(
  x: Tensor,
  y: Tensor | number,
  options: ActivationMasks & { minVal: number; maxVal: number },
): Tensor {
  return elementwise("addHardtanhMasked", [x, y, options.mask ?? 1, options.frameMask ?? 1], {
    a: options.minVal,
    b: options.maxVal,
  });
}
/** min(max(x, minVal), maxVal): PyTorch's hardtanh; (0, 20) is the clipped ReLU of DeepSpeech2. */
export function hardtanh(x: Tensor, minVal = -1, maxVal = 1): Tensor {
  return elementwise("hardtanh", [x], { a: minVal, b: maxVal });
}
/** 1 / (1 + e^-x) */
export function sigmoid(x: Tensor): Tensor {
  return elementwise("sigmoid", [x]);
}
/** Hyperbolic tangent. */
export function tanh(x: Tensor): Tensor {
  return elementwise("tanh", [x]);
}
/** cond != 0 ? x : y, broadcasting; no gradient flows to `cond`. */
export function where(cond: Tensor, x: Tensor | number, y: Tensor | number): Tensor {
  return elementwise("where", [cond, x, y]);
}
/**
 * 1 where x is finite and 0 where it is NaN or ±∞, in x's dtype; no gradient. A training step
 * checks its loss and gradient norm with it on the device instead of reading them back.
 */
export function finiteMask(x: Tensor): Tensor {
  return elementwise("finiteMask", [x]);
}
/** x broadcast to `shape` (a copy). */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  return elementwise("identity", [x], { outShape: shape });
}
/** A tensor of ones with x's shape, dtype and backend. */
export function onesLike(t: Tensor): Tensor {
  return broadcastTo(scalar(1, { dtype: t.dtype, backend: t.backend.name }), t.shape);
}
/** A tensor of zeros with x's shape, dtype and backend. */
export function zerosLike(t: Tensor): Tensor {
  return broadcastTo(scalar(0, { dtype: t.dtype, backend: t.backend.name }), t.shape);
}

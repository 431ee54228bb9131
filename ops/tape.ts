/**
 * Running ops and the autograd tape.
 *
 * - `runOp` runs a declared op on its inputs' backend and, while gradients are on and some
 *   input requires grad, records a node that keeps only the inputs/outputs its op declares.
 * - `backwardFrom` walks the nodes in reverse topological order and drops each node's saved
 *   tensors once used.
 *
 * Deliberately not here: higher-order gradients (backward runs with the tape off) and
 * in-place ops other than `assign` (optimizer and running-statistics updates).
 */
import { add, onesLike } from "./elementwise.ts";
import { isProfiling, profiledCall } from "./kernel_profile.ts";
import { getBackend } from "./backend_registry.ts";
import { resolveKernel } from "./kernel_fallback.ts";
import type { OpDef } from "./op_registry.ts";
import { keep } from "./scopes.ts";
import type { Shape } from "./shape.ts";
import { Tensor } from "./tensor.ts";

/** @internal One recorded op call on the tape. */
export interface GradNode {
  // deno-lint-ignore no-explicit-any
  def: OpDef<any>;
  attrs: unknown;
  inputShapes: Shape[];
  saved: { inputs: (Tensor | null)[]; outputs: (Tensor | null)[] } | null;
  parents: ({ node: GradNode; index: number } | { leaf: Tensor } | null)[];
  nOutputs: number;
}

// ---- gradient mode -------------------------------------------------------------------------

let gradEnabled = true;

/** Runs `fn` with the tape off: nothing it computes is recorded for backward. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Whether ops are currently recorded for backward. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

// ---- running ops -----------------------------------------------------------------------------

/**
 * Runs a declared op on its inputs' backend, recording it on the tape when needed. An op the
 * backend has no kernel for throws, unless `setKernelFallback` (ops/kernel_fallback.ts) lets it
 * run on the cpu.
 */
export function runOp<A>(def: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor[] {
  const backend = inputs.length > 0 ? inputs[0].backend : getBackend();
  for (const t of inputs) {
    t.assertLive();
    if (t.backend !== backend) {
      throw new Error(
        `${def.name}: inputs live on different backends (${backend.name} and ${t.backend.name})`,
      );
    }
  }
  const specs = def.outputs(inputs, attrs);
  if (
    !def.acceptsFloat16 &&
    (inputs.some((t) => t.dtype === "float16") || specs.some((s) => s.dtype === "float16"))
  ) {
    // Elementwise ops are all "map"; its attributes name the expression (relu, add, ...).
    const key = (attrs as { key?: unknown } | null)?.key;
    throw new TypeError(
      `${def.name}${typeof key === "string" ? ` (${key})` : ""}: has no float16 kernel (float16 is for ` +
        `cast, matmul, conv1d/conv2d and reshape); cast to float32 first`,
    );
  }
  // The backend's own kernel, or the explicit cpu fallback; a missing kernel throws, naming both.
  const kernel = resolveKernel(def.name, backend);
  const storages = isProfiling()
    ? profiledCall(def.name, attrs, backend, () => kernel({ inputs, attrs, outputs: specs, backend }))
    : kernel({ inputs, attrs, outputs: specs, backend });
  const outs = specs.map((s, i) => new Tensor(s.shape, s.dtype, backend, storages[i]));
  if (gradEnabled && def.backward && inputs.some((t) => t.requiresGrad)) {
    const savedIn = typeof def.saveInputs === "function" ? def.saveInputs(attrs) : def.saveInputs ?? [];
    const savedOut = typeof def.saveOutputs === "function" ? def.saveOutputs(attrs) : def.saveOutputs ?? [];
    const node: GradNode = {
      def,
      attrs,
      inputShapes: inputs.map((t) => t.shape),
      saved: {
        inputs: inputs.map((t, i) => savedIn.includes(i) ? t : null),
        outputs: outs.map((t, i) => savedOut.includes(i) ? t : null),
      },
      parents: inputs.map((t) =>
        t.node ? { node: t.node, index: t.outputIndex } : t.requiresGrad ? { leaf: t } : null
      ),
      nOutputs: outs.length,
    };
    outs.forEach((o, i) => {
      o.requiresGrad = true;
      o.node = node;
      o.outputIndex = i;
    });
  }
  return outs;
}

/** @internal Reverse-mode pass from `root`. */
export function backwardFrom(root: Tensor, grad?: Tensor): void {
  if (!root.requiresGrad) throw new Error(`backward() on a tensor that does not require grad: ${root}`);
  if (!grad && root.size !== 1) {
    throw new RangeError(`backward() without a gradient needs a scalar, got shape [${root.shape}]`);
  }
  const seed = grad ?? onesLike(root);
  if (!root.node) {
    accumulateLeaf(root, seed);
    return;
  }
  // Topological order of the nodes reachable from root (iterative DFS; graphs are deep).
  const order: GradNode[] = [];
  const visited = new Set<GradNode>();
  const stack: [GradNode, number][] = [[root.node, 0]];
  visited.add(root.node);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    if (i < node.parents.length) {
      top[1]++;
      const p = node.parents[i];
      if (p && "node" in p && !visited.has(p.node)) {
        visited.add(p.node);
        stack.push([p.node, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  const grads = new Map<GradNode, (Tensor | null)[]>();
  const rootGrads = new Array<Tensor | null>(root.node.nOutputs).fill(null);
  rootGrads[root.outputIndex] = seed;
  grads.set(root.node, rootGrads);
  noGrad(() => {
    for (let k = order.length - 1; k >= 0; k--) {
      const node = order[k];
      const g = grads.get(node);
      grads.delete(node);
      if (!g || g.every((x) => x === null)) {
        node.saved = null;
        continue;
      }
      if (!node.saved) {
        throw new Error(`${node.def.name}: backward() reached an op whose saved tensors were already freed`);
      }
      const inGrads = node.def.backward!({
        grads: g,
        inputs: node.saved.inputs,
        outputs: node.saved.outputs,
        inputShapes: node.inputShapes,
        attrs: node.attrs,
        needsGrad: node.parents.map((p) => p !== null),
      });
      node.saved = null;
      for (let i = 0; i < node.parents.length; i++) {
        const p = node.parents[i];
        const gi = inGrads[i];
        if (!p || !gi) continue;
        if ("leaf" in p) {
          accumulateLeaf(p.leaf, gi);
        } else {
          let list = grads.get(p.node);
          if (!list) grads.set(p.node, list = new Array<Tensor | null>(p.node.nOutputs).fill(null));
          list[p.index] = list[p.index] ? add(list[p.index]!, gi) : gi;
        }
      }
    }
  });
}

// One gradient tensor can be handed to several leaves (add's backward passes g on to both
// inputs), so a replaced .grad is disposed only when no other leaf still holds it.
const gradHolders = new WeakMap<Tensor, number>();

function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  const next = leaf.grad ? add(leaf.grad, g) : g;
  keep(next);
  gradHolders.set(next, (gradHolders.get(next) ?? 0) + 1);
  releaseGrad(leaf);
  leaf.grad = next;
}

/** Drops `leaf.grad` (optimizers call this to zero gradients), disposing it when no other leaf holds it. */
export function releaseGrad(leaf: Tensor): void {
  const old = leaf.grad;
  if (!old) return;
  leaf.grad = null;
  const n = (gradHolders.get(old) ?? 1) - 1;
  gradHolders.set(old, n);
  if (n <= 0) old.dispose();
}

/**
 * Replaces the contents of `target` with those of `source` (same shape and dtype), keeping
 * `target`'s identity: optimizers and running statistics update parameters this way. The
 * buffer moves, no data is copied, and `source` is disposed.
 */
export function assign(target: Tensor, source: Tensor): void {
  target.assertLive();
  source.assertLive();
  if (target.backend !== source.backend || target.dtype !== source.dtype || target.size !== source.size) {
    throw new TypeError(`assign(): ${source} does not fit ${target}`);
  }
  if (source.node) {
    throw new Error("assign(): the source is part of a recorded graph; compute it under noGrad()");
  }
  const moved = target.backend.retain(source.storage);
  target.backend.free(target.storage, target.dtype, target.size);
  target.storage = moved;
  source.dispose();
}

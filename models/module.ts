/**
 * Module: the parameter and buffer bookkeeping every layer and model shares. Names follow
 * PyTorch's state_dict convention (`encoder.0.conv.weight`, `bn.running_mean`), so weights
 * trained elsewhere load by name, and checkpoints are plain name → tensor records.
 *
 * Not here: forward signatures (each layer defines its own) and hooks.
 */
import { assign, broadcastTo, noGrad, type Tensor, tensor } from "../ops/mod.ts";
import type { Precision } from "./precision.ts";

/** Base class of layers and models: named parameters, buffers, children, train/eval mode. */
export abstract class Module {
  #params = new Map<string, Tensor>();
  #buffers = new Map<string, Tensor>();
  #children = new Map<string, Module>();
  /** Training mode (dropout active, batch statistics in batch norm). */
  training = true;
  /** Dtype of the GEMM/conv inputs of the layers (models/precision.ts); set with `setPrecision`. */
  precision: Precision = "f32";

  /** Registers a trainable tensor (sets requiresGrad) under `name`. Returns it. */
  protected param(name: string, t: Tensor): Tensor {
    t.requiresGrad = true;
    this.#params.set(name, t);
    return t;
  }

  /** Registers a non-trainable state tensor (running statistics) under `name`. Returns it. */
  protected buffer(name: string, t: Tensor): Tensor {
    this.#buffers.set(name, t);
    return t;
  }

  /** Registers a child module under `name`. Returns it. */
  protected child<M extends Module>(name: string, m: M): M {
    this.#children.set(name, m);
    return m;
  }

  /** Trainable tensors by dotted PyTorch-style name. */
  parameters(prefix = ""): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [n, t] of this.#params) out.set(prefix + n, t);
    for (const [n, c] of this.#children) for (const [k, t] of c.parameters(`${prefix}${n}.`)) out.set(k, t);
    return out;
  }

  /** Parameters and buffers by name: what a checkpoint stores. */
  stateDict(prefix = ""): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [n, t] of this.#params) out.set(prefix + n, t);
    for (const [n, t] of this.#buffers) out.set(prefix + n, t);
    for (const [n, c] of this.#children) for (const [k, t] of c.stateDict(`${prefix}${n}.`)) out.set(k, t);
    return out;
  }

  /**
   * Copies tensors into the parameters and buffers of the same names (shapes must match).
   * With `strict` (default) a missing or unexpected name is an error listing them.
   */
  loadStateDict(
    record: Record<string, Tensor> | Map<string, Tensor>,
    options: { strict?: boolean } = {},
  ): void {
    const src = record instanceof Map ? record : new Map(Object.entries(record));
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !src.has(k));
    const unexpected = [...src.keys()].filter((k) => !own.has(k));
    if ((options.strict ?? true) && (missing.length || unexpected.length)) {
      throw new Error(
        `loadStateDict: missing ${JSON.stringify(missing)}, unexpected ${JSON.stringify(unexpected)}`,
      );
    }
    noGrad(() => {
      for (const [name, target] of own) {
        const t = src.get(name);
        if (!t) continue;
        if (t.shape.join() !== target.shape.join()) {
          throw new RangeError(`loadStateDict: ${name} has shape [${t.shape}], expected [${target.shape}]`);
        }
        assign(target, copyOnto(name, t, target));
      }
    });
  }

  /** Sets training mode here and in every child. Returns this. */
  train(on = true): this {
    this.training = on;
    for (const c of this.#children.values()) c.train(on);
    return this;
  }

  /**
   * Sets the precision of the GEMM-shaped layers here and in every child (resolve it for the
   * backend with `resolvePrecision` first). Parameters stay float32. Returns this.
   */
  setPrecision(precision: Precision): this {
    this.precision = precision;
    for (const c of this.#children.values()) c.setPrecision(precision);
    return this;
  }

  /** Inference mode (dropout off, running statistics in batch norm). Returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Number of trainable scalars. */
  parameterCount(): number {
    let n = 0;
    for (const t of this.parameters().values()) n += t.size;
    return n;
  }
}

/**
 * A copy of `t` with `like`'s dtype on `like`'s backend (through the host when they differ).
 * Loading runs once, not per step; the host copy needs a synchronous read of `t`'s backend.
 */
function copyOnto(name: string, t: Tensor, like: Tensor): Tensor {
  if (t.backend === like.backend && t.dtype === like.dtype) return broadcastTo(t, like.shape);
  if (!t.backend.readSync) {
    throw new Error(
      `loadStateDict: ${name} is on backend "${t.backend.name}", which has no synchronous read, and the ` +
        `model on "${like.backend.name}": create the tensors on the model's backend (the default ` +
        `backend when loadCheckpoint runs)`,
    );
  }
  return tensor(t.dataSync(), like.shape, { dtype: like.dtype, backend: like.backend.name });
}

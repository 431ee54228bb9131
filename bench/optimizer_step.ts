/**
 * One optimizer update over a config's parameters (gradient norm, clipping, the update), alone:
 * the part of a training step that is elementwise passes over parameter-sized tensors. Prints
 * the median of `--reps` updates after warm-ups, for each optimizer asked for.
 *
 *   ./deno run -A bench/optimizer_step.ts [--config small_wide] [--optimizers novograd,sgd,adamw] [--reps 30]
 */
import { parseArgs } from "node:util";
import { configs } from "../models/configs/mod.ts";
import { CtcModel } from "../models/ctc_model.ts";
import { AdamW } from "../models/optimizers/adamw.ts";
import { NovoGrad } from "../models/optimizers/novograd.ts";
import type { Optimizer } from "../models/optimizers/optimizer.ts";
import { SGD } from "../models/optimizers/sgd.ts";
import { vocabularyOf } from "../models/trainer.ts";
import { randomNormal, Rng, type Tensor, tidy } from "../ops/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    config: { type: "string", default: "small_wide" },
    optimizers: { type: "string", default: "novograd,sgd,adamw" },
    reps: { type: "string", default: "30" },
  },
});

const makers: Record<string, (p: Map<string, Tensor>) => Optimizer> = {
  novograd: (p) => new NovoGrad(p, { weightDecay: 0.001, clipNorm: 100 }),
  sgd: (p) => new SGD(p, { momentum: 0.9, weightDecay: 0.001, clipNorm: 100 }),
  adamw: (p) => new AdamW(p, { weightDecay: 0.001, clipNorm: 100 }),
};

const config = configs[values.config];
if (!config) throw new Error(`bench/optimizer_step.ts: unknown config "${values.config}"`);
const model = new CtcModel(
  config.features.numFeatures,
  vocabularyOf(config).size,
  config.encoder,
  new Rng(0),
);
const params = model.parameters();
let total = 0;
for (const p of params.values()) total += p.size;
const rng = new Rng(1);

for (const name of values.optimizers.split(",")) {
  const make = makers[name];
  if (!make) throw new Error(`bench/optimizer_step.ts: unknown optimizer "${name}"`);
  const optimizer = make(params);
  const times: number[] = [];
  for (let i = 0; i < Number(values.reps) + 3; i++) {
    for (const p of params.values()) p.grad = randomNormal(p.shape, rng, { std: 1e-3 });
    const t0 = performance.now();
    tidy(() => optimizer.step(1e-4));
    if (i >= 3) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(
    `${values.config} (${total.toLocaleString("en")} parameters, ${params.size} tensors), ${name}: ` +
      `median ${times[times.length >> 1].toFixed(2)} ms an update`,
  );
}

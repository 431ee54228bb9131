/**
 * Fuzz target: `--section.key=value` config overrides through `overrideConfig` (the function
 * scripts/train.ts applies them with) on the `small` config. An input is one override; a
 * rejection must name the flag (`--path`), which is what the user typed.
 */
import { configs, overrideConfig } from "../../models/configs/mod.ts";
import type { FuzzTarget } from "./mutate.ts";

const OVERRIDES = [
  "training.maxSteps=500",
  "lrPolicy.lr=0.003",
  "data.batchSize=8",
  "data.train=a.csv,b.csv",
  "decoder.kind=beam",
  "decoder.alpha=0.5",
  "optimizer.weightDecay=0.001",
  "training.logDir=work/runs/x",
  "data.freqMasks.count=2",
  'encoder.blocks=[{"repeat":1,"kernel":3,"channels":8}]',
  "features.numFeatures=64",
  "training.initCheckpoint=ckpt.safetensors",
];

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function split(bytes: Uint8Array): [string, string] {
  const text = decoder.decode(bytes);
  const eq = text.indexOf("=");
  return eq < 0 ? [text, ""] : [text.slice(0, eq), text.slice(eq + 1)];
}

/** Config overrides. */
export function configOverrideTarget(): FuzzTarget {
  return {
    format: "config override",
    seeds: OVERRIDES.map((o) => ({ bytes: encoder.encode(o), isText: true })),
    read(bytes) {
      const [path, value] = split(bytes);
      overrideConfig(configs.small, path, value);
    },
    expectedName: (bytes) => `--${split(bytes)[0]}`,
  };
}

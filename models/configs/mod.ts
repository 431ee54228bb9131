/**
 * Named configs for `--config <name>`; a path to a .ts file exporting `config` works too.
 */
import { config as jasper10x5Dr } from "./jasper10x5_dr.ts";
import { config as w2lplusLarge } from "./w2lplus_large.ts";
import { large as ds2Large, small as ds2Small, toy as ds2Toy } from "./ds2.ts";
import { config as small } from "./small.ts";
import { config as smallWide } from "./small_wide.ts";
import { config as smallWideMixed } from "./small_wide_mixed.ts";
import { config as quartznetSmall } from "./quartznet_small.ts";
import type { SpeechConfig } from "./types.ts";

/** Configs by the name `--config` takes. */
export const configs: Record<string, SpeechConfig> = {
  small,
  small_wide: smallWide,
  small_wide_mixed: smallWideMixed,
  quartznet_small: quartznetSmall,
  jasper10x5_dr: jasper10x5Dr,
  jasper: jasper10x5Dr,
  w2lplus_large: w2lplusLarge,
  ds2_large: ds2Large,
  ds2_small: ds2Small,
  ds2_toy: ds2Toy,
};

// Optional fields a config may leave out, which an override may still set.
const OPTIONAL_KEYS: Record<string, string[]> = {
  decoder: ["beamWidth", "alpha", "beta", "lm"],
  optimizer: ["beta1", "beta2", "epsilon", "momentum", "weightDecay", "gradAveraging", "larc", "clipNorm"],
  training: ["epochs", "initCheckpoint", "precision"],
  data: ["augment", "mix", "nWorkers", "maxDuration"],
};

/** Sets `path` ("training.maxSteps", "lrPolicy.lr") in a deep copy of `config` to the parsed value. */
export function overrideConfig(config: SpeechConfig, path: string, value: string): SpeechConfig {
  const copy = structuredClone(config) as unknown as Record<string, unknown>;
  const keys = path.split(/[./]/);
  let node = copy;
  for (const k of keys.slice(0, -1)) {
    if (typeof node[k] !== "object" || node[k] === null) {
      throw new Error(`--${path}: "${k}" is not a section of the config`);
    }
    node = node[k] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1];
  if (!(last in node) && !OPTIONAL_KEYS[keys.slice(0, -1).join(".")]?.includes(last)) {
    throw new Error(`--${path}: unknown key "${last}" (known: ${Object.keys(node).join(", ")})`);
  }
  let parsed: unknown = value;
  try {
    parsed = JSON.parse(value);
  } catch {
    // a bare string such as a path
  }
  const current = node[last];
  // A list field given a bare string is a comma-separated list (`--data.eval=a.csv,b.csv`).
  if (Array.isArray(current) && typeof parsed === "string") parsed = parsed.split(",");
  const kind = (v: unknown) => Array.isArray(v) ? "list" : v === null ? "null" : typeof v;
  if (current !== undefined && current !== null && kind(current) !== kind(parsed)) {
    throw new Error(`--${path}=${value}: expected a ${kind(current)}, got a ${kind(parsed)}`);
  }
  node[last] = parsed;
  return copy as unknown as SpeechConfig;
}

/** A named config, or the `config` export of a .ts file. */
export async function resolveConfig(nameOrPath: string): Promise<SpeechConfig> {
  if (configs[nameOrPath]) return configs[nameOrPath];
  if (/\.(ts|js)$/.test(nameOrPath)) {
    const mod = await import(new URL(nameOrPath, `file://${Deno.cwd()}/`).href);
    if (!mod.config) throw new Error(`${nameOrPath}: exports no "config"`);
    return mod.config as SpeechConfig;
  }
  throw new Error(`Unknown config "${nameOrPath}" (named configs: ${Object.keys(configs).join(", ")})`);
}

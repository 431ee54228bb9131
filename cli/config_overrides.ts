/**
 * train.ts's `--section.key=value` overrides, applied in order to a config and then checked
 * against the config's value rules (models/configs/validate.ts), so a wrong type, an unknown
 * key, a negative step count or an unknown decoder kind is a `UsageError` naming the flag.
 *
 * Not here: the override syntax itself (models/configs/mod.ts `overrideConfig`).
 */
import { overrideConfig } from "../models/configs/mod.ts";
import type { SpeechConfig } from "../models/configs/types.ts";
import { validateConfig } from "../models/configs/validate.ts";
import { type FlagOverride, UsageError } from "./args.ts";

/**
 * Applies `overrides` to a copy of `config` and validates the result. A problem in a field an
 * override set names that override; a problem already in the config names `configName`.
 *
 * @example
 * ```ts
 * applyConfigOverrides(configs.small, [{ key: "training.maxSteps", value: "-5" }], "small");
 * // throws UsageError: --training.maxSteps=-5: training.maxSteps must be an integer >= 1, got -5
 * ```
 */
export function applyConfigOverrides(
  config: SpeechConfig,
  overrides: readonly FlagOverride[],
  configName: string,
): SpeechConfig {
  let out = config;
  for (const { key, value } of overrides) {
    try {
      out = overrideConfig(out, key, value);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const problems = validateConfig(out);
  if (problems.length === 0) return out;
  const first = problems[0];
  const field = first.split(" ")[0];
  // The last override of the field (or of its section, e.g. --lrPolicy={...}) is the culprit.
  const culprit = overrides.findLast((o) =>
    field === o.key.replaceAll("/", ".") || field.startsWith(`${o.key}.`)
  );
  throw new UsageError(
    culprit ? `--${culprit.key}=${culprit.value}: ${first}` : `config ${configName}: ${first}`,
  );
}

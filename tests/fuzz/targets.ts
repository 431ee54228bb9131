/** Every fuzz target, in report order; the default and the slow fuzz tests both run this list. */
import { arpaGzipTarget, arpaTarget } from "./arpa_fuzz.ts";
import { configOverrideTarget } from "./config_override_fuzz.ts";
import { flacTarget } from "./flac_fuzz.ts";
import { lmBinaryTarget } from "./lm_binary_fuzz.ts";
import { csvManifestTarget, jsonlManifestTarget } from "./manifest_fuzz.ts";
import type { FuzzTarget } from "./mutate.ts";
import { checkpointTarget, safetensorsTarget } from "./safetensors_fuzz.ts";
import { vocabularyTarget } from "./vocabulary_fuzz.ts";
import { wavTarget } from "./wav_fuzz.ts";

/** Builds every target (some read fixtures or write a seed checkpoint). */
export async function allTargets(): Promise<FuzzTarget[]> {
  return [
    wavTarget(),
    flacTarget(),
    arpaTarget(),
    arpaGzipTarget(),
    lmBinaryTarget(),
    await checkpointTarget(),
    safetensorsTarget(),
    csvManifestTarget(),
    jsonlManifestTarget(),
    configOverrideTarget(),
    vocabularyTarget(),
  ];
}

/**
 * The decoder a command line asks for: `--greedy`, or a beam search from `--lm`, `--alpha`,
 * `--beta`, `--beam_width`, filled in from the checkpoint's own decoder config. An LM without a
 * weight is an error rather than a silent alpha of 0 (an LM that does nothing): the weight
 * comes from `--alpha`, or from the checkpoint's decoder config when that names an alpha, else
 * the error names the flag. (The LM files themselves, ARPA and decode/lm_binary.ts, store no
 * decoding weights.)
 *
 * An LM named only by the checkpoint (a shipped model stores the one its weights were tuned
 * with, at a path relative to the working folder) may be missing: with no decoder flags the
 * result is greedy decoding and a note saying why and how to build the LM; with flags that
 * tune it (`--alpha`, `--beta`, `--beam_width`) it is an error, not a bare "no such file".
 *
 * Not here: building the decoder (models/transcript_decoder.ts).
 */
import { existsSync } from "node:fs";
import type { DecoderConfig } from "../models/configs/types.ts";
import { UsageError } from "./args.ts";

/** Decoder flags as a script parsed them. */
export interface DecoderFlags {
  /** Force greedy decoding. */
  isGreedy?: boolean;
  /** LM path. */
  lm?: string;
  /** LM weight. */
  alpha?: number;
  /** Word insertion bonus. */
  beta?: number;
  /** Beam width. */
  beamWidth?: number;
}

/**
 * The decoder config for `flags` on top of the checkpoint's `fromCheckpoint` (greedy when the
 * checkpoint has none). Throws a `UsageError` when an LM is asked for and no alpha is known, or
 * when flags tune a checkpoint's LM that is not here; `onNote` hears why a missing one fell back
 * to greedy.
 *
 * @example
 * ```ts
 * resolveDecoderConfig({ lm: "lm.bin", alpha: 0.5 }, { kind: "greedy" });
 * // { kind: "beam", lm: "lm.bin", alpha: 0.5, beta: 0, beamWidth: undefined }
 * ```
 */
export function resolveDecoderConfig(
  flags: DecoderFlags,
  fromCheckpoint?: DecoderConfig,
  onNote: (note: string) => void = () => {},
): DecoderConfig {
  const base: DecoderConfig = fromCheckpoint ?? { kind: "greedy" };
  if (flags.isGreedy) {
    if (flags.lm !== undefined || flags.beamWidth !== undefined) {
      throw new UsageError("--greedy cannot be combined with --lm or --beam_width");
    }
    return { kind: "greedy" };
  }
  const isBeam = flags.lm !== undefined || flags.beamWidth !== undefined;
  if (!isBeam) {
    if (flags.alpha !== undefined || flags.beta !== undefined) {
      if (base.kind !== "beam" || base.lm === undefined) {
        throw new UsageError("--alpha and --beta weigh an LM: give --lm too");
      }
      assertCheckpointLmExists(base);
      return { ...base, alpha: flags.alpha ?? base.alpha, beta: flags.beta ?? base.beta };
    }
    if (base.kind === "beam" && base.lm !== undefined && !existsSync(base.lm)) {
      onNote(`${missingLm(base.lm)}: decoding greedily (build it for beam search; deno task build-lm)`);
      return { kind: "greedy" };
    }
    return base;
  }
  const lm = flags.lm ?? base.lm;
  if (flags.lm === undefined) assertCheckpointLmExists(base);
  const alpha = flags.alpha ?? base.alpha;
  if (lm !== undefined && alpha === undefined) {
    throw new UsageError(
      `--lm ${lm} needs --alpha (the LM weight): neither the LM file nor the checkpoint's decoder config stores one`,
    );
  }
  return {
    kind: "beam",
    lm,
    alpha: lm === undefined ? undefined : alpha,
    beta: lm === undefined ? undefined : flags.beta ?? base.beta ?? 0,
    beamWidth: flags.beamWidth ?? base.beamWidth,
  };
}

function missingLm(lm: string): string {
  return `the checkpoint's decoder config names the LM ${lm}, which is not here (models/pretrained/README.md says how to build the shipped models' LM)`;
}

function assertCheckpointLmExists(fromCheckpoint: DecoderConfig): void {
  if (fromCheckpoint.kind !== "beam" || fromCheckpoint.lm === undefined || existsSync(fromCheckpoint.lm)) {
    return;
  }
  throw new UsageError(`${missingLm(fromCheckpoint.lm)}: build it, give --lm, or decode with --greedy`);
}

/**
 * The decoder a command line asks for: `--greedy`, or a beam search from `--lm`, `--alpha`,
 * `--beta`, `--beam_width`, filled in from the checkpoint's own decoder config. An LM without a
 * weight is an error rather than a silent alpha of 0 (an LM that does nothing): the weight
 * comes from `--alpha`, or from the checkpoint's decoder config when that names an alpha, else
 * the error names the flag. (The LM files themselves, ARPA and decode/lm_binary.ts, store no
 * decoding weights.)
 *
 * Not here: building the decoder (models/transcript_decoder.ts).
 */
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
 * checkpoint has none). Throws a `UsageError` when an LM is asked for and no alpha is known.
 *
 * @example
 * ```ts
 * resolveDecoderConfig({ lm: "lm.bin", alpha: 0.5 }, { kind: "greedy" });
 * // { kind: "beam", lm: "lm.bin", alpha: 0.5, beta: 0, beamWidth: undefined }
 * ```
 */
export function resolveDecoderConfig(flags: DecoderFlags, fromCheckpoint?: DecoderConfig): DecoderConfig {
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
      return { ...base, alpha: flags.alpha ?? base.alpha, beta: flags.beta ?? base.beta };
    }
    return base;
  }
  const lm = flags.lm ?? base.lm;
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

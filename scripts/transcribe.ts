/**
 * Transcribe WAV/FLAC files with a checkpoint, printing the text and word times.
 *
 *   deno run --allow-read --allow-env --allow-ffi scripts/transcribe.ts --checkpoint work/runs/demo/ckpt-*.safetensors a.wav b.flac
 *   ... --lm lm.bin --alpha 0.5 --beta 1 [--beam_width 128]   beam search with an n-gram LM
 *   ... --beam_width 32                                       beam search without an LM
 *
 * Without decoder flags it decodes as the checkpoint's config says (greedy unless it names a
 * beam search). Beam search runs on Workers (add --allow-read for the LM file).
 */
import { parseArgs } from "node:util";
import { type BackendChoice, setBackend } from "../ops/backends/mod.ts";
import type { DecoderConfig } from "../models/configs/types.ts";
import { audioLogits, loadModel } from "../models/inference.ts";
import { TranscriptDecoder } from "../models/transcript_decoder.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    checkpoint: { type: "string" },
    backend: { type: "string", default: "auto" },
    json: { type: "boolean", default: false },
    lm: { type: "string" },
    alpha: { type: "string" },
    beta: { type: "string" },
    beam_width: { type: "string" },
    greedy: { type: "boolean", default: false },
  },
});
if (!values.checkpoint || positionals.length === 0) {
  console.error(
    "Usage: scripts/transcribe.ts --checkpoint CKPT [--json] [--greedy | --lm LM [--alpha A] [--beta B] [--beam_width W]] AUDIO...",
  );
  Deno.exit(2);
}
try {
  await setBackend(values.backend as BackendChoice);
  const m = await loadModel(values.checkpoint);
  const beamFlags = values.lm !== undefined || values.beam_width !== undefined;
  const fromConfig: DecoderConfig = m.config.decoder ?? { kind: "greedy" };
  const num = (s: string | undefined, fallback: number | undefined) => s === undefined ? fallback : Number(s);
  const decoderConfig: DecoderConfig = values.greedy ? { kind: "greedy" } : beamFlags
    ? {
      kind: "beam",
      lm: values.lm ?? fromConfig.lm,
      beamWidth: num(values.beam_width, fromConfig.beamWidth),
      alpha: num(values.alpha, fromConfig.alpha),
      beta: num(values.beta, fromConfig.beta),
    }
    : fromConfig;
  using decoder = await TranscriptDecoder.create(decoderConfig, m.vocab, { frameStepS: m.frameStepS });
  // One batch, so a beam search spreads the files over its Workers.
  const transcripts = await decoder.decode(positionals.map((path) => audioLogits(m, path)));
  for (const [i, path] of positionals.entries()) {
    const r = transcripts[i];
    if (values.json) console.log(JSON.stringify({ path, ...r }));
    else {
      console.log(`${path}: ${r.text}`);
      for (const w of r.words) console.log(`  ${w.startS.toFixed(2)}–${w.endS.toFixed(2)} s  ${w.word}`);
    }
  }
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  Deno.exit(1);
}

/**
 * Transcribe WAV/FLAC files (any sample rate, mono or stereo) with a checkpoint, printing the
 * text and word times.
 *
 *   deno task transcribe --checkpoint models/pretrained/small_wide_mixed.safetensors a.wav b.flac
 *   ... --lm lm.bin --alpha 0.5 --beta 1 [--beam_width 128]   beam search with an n-gram LM
 *   ... --beam_width 32                                       beam search without an LM
 *
 * Without decoder flags it decodes as the checkpoint's config says (greedy unless it names a
 * beam search; greedy, with a note, when the LM it names is not here); `--lm` without `--alpha`
 * takes the checkpoint's alpha or is an error (cli/decoder_flags.ts). Beam search runs on Workers.
 */
import { runCommand } from "../cli/args.ts";
import { resolveDecoderConfig } from "../cli/decoder_flags.ts";
import { inferFiles, loadModel } from "../models/inference.ts";
import { TranscriptDecoder } from "../models/transcript_decoder.ts";
import { BACKEND_CHOICES, type BackendChoice, setBackend } from "../ops/backends/mod.ts";

const command = {
  name: "deno task transcribe",
  summary: "Transcribe audio files (WAV or FLAC, any rate, mono or stereo) with a checkpoint.",
  flags: {
    checkpoint: {
      type: "string",
      default: "models/pretrained/small_wide_mixed.safetensors",
      valueName: "CKPT",
      help: "checkpoint to transcribe with",
    },
    backend: { type: "string", default: "auto", choices: BACKEND_CHOICES, help: "where tensors live" },
    json: { type: "boolean", help: "one JSON object a file (text, words with times)" },
    greedy: { type: "boolean", help: "greedy decoding whatever the checkpoint's config says" },
    lm: { type: "string", valueName: "LM", help: "ARPA or binary n-gram LM for beam search" },
    alpha: {
      type: "number",
      min: 0,
      help: "LM weight (default: the checkpoint's; required with --lm otherwise)",
    },
    beta: { type: "number", help: "word insertion bonus (default: the checkpoint's, else 0)" },
    beam_width: { type: "number", integer: true, min: 1, help: "beam search width (default 128)" },
  },
  positionals: { name: "AUDIO", min: 1 },
  examples: [
    "deno task transcribe --checkpoint models/pretrained/small_wide_mixed.safetensors clip.wav",
  ],
} as const;

await runCommand(command, async ({ values, positionals }) => {
  await setBackend(values.backend as BackendChoice);
  const m = await loadModel(values.checkpoint);
  const decoderConfig = resolveDecoderConfig(
    {
      isGreedy: values.greedy,
      lm: values.lm,
      alpha: values.alpha,
      beta: values.beta,
      beamWidth: values.beam_width,
    },
    m.config.decoder,
    (note) => console.error(`transcribe: ${note}`),
  );
  using decoder = await TranscriptDecoder.create(decoderConfig, m.vocab, { frameStepS: m.frameStepS });
  // Files in batches, so a beam search spreads them over its Workers and memory stays bounded.
  for await (const { path, transcript: r } of inferFiles(m, positionals, { decoder })) {
    if (values.json) console.log(JSON.stringify({ path, ...r }));
    else {
      console.log(`${path}: ${r.text}`);
      for (const w of r.words) console.log(`  ${w.startS.toFixed(2)}–${w.endS.toFixed(2)} s  ${w.word}`);
    }
  }
});

/**
 * Transcribe WAV/FLAC files with a checkpoint, printing the text and word times.
 *
 *   deno run --allow-read --allow-env --allow-ffi scripts/transcribe.ts --checkpoint work/runs/small/ckpt-*.safetensors a.wav b.flac
 */
import { parseArgs } from "node:util";
import { loadModel, transcribeFile } from "../models/inference.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: { checkpoint: { type: "string" }, json: { type: "boolean", default: false } },
});
if (!values.checkpoint || positionals.length === 0) {
  console.error("Usage: scripts/transcribe.ts --checkpoint CKPT [--json] AUDIO...");
  Deno.exit(2);
}
try {
  const m = await loadModel(values.checkpoint);
  for (const path of positionals) {
    const r = transcribeFile(m, path);
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

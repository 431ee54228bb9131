/**
 * export_checkpoint: copies a training checkpoint's weights and metadata without its optimizer
 * state, in float16 by default (half the size): what is shipped in models/pretrained/ for others
 * to fine-tune (`--training.initCheckpoint=...`) or run (`--mode eval --checkpoint ...`).
 *
 *   deno task export-checkpoint --from work/runs/small/ckpt-00003000.safetensors --to small.safetensors [--dtype F16|F32]
 */
import { runCommand, UsageError } from "../cli/args.ts";
import { exportCheckpoint } from "../models/checkpoint.ts";

const command = {
  name: "deno task export-checkpoint",
  summary: "Copy a checkpoint's weights and metadata without its optimizer state (float16 by default).",
  flags: {
    from: { type: "string", valueName: "CKPT", help: "training checkpoint (required)" },
    to: { type: "string", valueName: "OUT", help: "output file (required)" },
    dtype: { type: "string", default: "F16", choices: ["F16", "F32"], help: "weight type" },
  },
} as const;

await runCommand(command, async ({ values }) => {
  if (values.from === undefined || values.to === undefined) {
    throw new UsageError("--from and --to are required");
  }
  const dtype = values.dtype as "F16" | "F32";
  const meta = await exportCheckpoint(values.from, values.to, { dtype });
  const nBytes = Deno.statSync(values.to).size;
  console.log(
    `${values.to}: ${(nBytes / 1e6).toFixed(1)} MB (${dtype}), step ${meta.step} of ${values.from}`,
  );
});

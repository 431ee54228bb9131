/**
 * export_checkpoint: copies a training checkpoint's weights and metadata without its optimizer
 * state, in float16 by default (half the size): what is shipped in models/pretrained/ for others
 * to fine-tune (`--training.initCheckpoint=...`) or run (`--mode eval --checkpoint ...`).
 *
 *   deno task export-checkpoint --from work/runs/small/ckpt-00003000.safetensors --to small.safetensors [--dtype F16|F32]
 */
import { parseArgs } from "node:util";
import { exportCheckpoint } from "../models/checkpoint.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    from: { type: "string" },
    to: { type: "string" },
    dtype: { type: "string", default: "F16" },
    help: { type: "boolean", short: "h" },
  },
});
const usage = "usage: deno task export-checkpoint --from CKPT --to OUT [--dtype F16|F32]";
if (values.help || !values.from || !values.to || (values.dtype !== "F16" && values.dtype !== "F32")) {
  console.error(usage);
  Deno.exit(values.help ? 0 : 2);
}
const meta = await exportCheckpoint(values.from, values.to, { dtype: values.dtype });
console.log(
  `${values.to}: ${
    (Deno.statSync(values.to).size / 1e6).toFixed(1)
  } MB (${values.dtype}), step ${meta.step} of ${values.from}`,
);

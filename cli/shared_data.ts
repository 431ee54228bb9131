/**
 * Where the scripts find ../shared/data (real speech, LM text) beside a developer's checkout:
 * DENO_CTC_SHARED_DATA, else the folder next to the repository; null when neither holds it
 * (a user's clone), so a script can leave out what needs it and say so.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The shared data folder, or null when this machine has none. */
export function sharedDataDirOrNull(): string | null {
  const dir = Deno.env.get("DENO_CTC_SHARED_DATA") ??
    fileURLToPath(new URL("../../shared/data", import.meta.url));
  return existsSync(join(dir, "README.md")) ? dir : null;
}

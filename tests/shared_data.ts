/**
 * The one door through which tests read ../shared/data (real speech and LM text that sits
 * beside a developer's checkout but not beside a user's clone). When the folder is absent a
 * test that needs it is skipped, and says so loudly, rather than failing or passing silently.
 *
 * Override the location with DENO_CTC_SHARED_DATA.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const defaultDir = fileURLToPath(new URL("../../shared/data", import.meta.url));

/** Absolute path of the shared data folder, or null when this clone has none. */
export const sharedDataDir: string | null = (() => {
  const dir = Deno.env.get("DENO_CTC_SHARED_DATA") ?? defaultDir;
  return existsSync(join(dir, "README.md")) ? dir : null;
})();

/** Path of a file or folder inside the shared data, or null when the shared data is absent. */
export function sharedDataPath(relative: string): string | null {
  if (sharedDataDir === null) return null;
  const p = join(sharedDataDir, relative);
  return existsSync(p) ? p : null;
}

/**
 * Registers a test that needs `relative` inside ../shared/data; without it the test is
 * ignored and a warning names what was missing.
 */
export function testWithSharedData(
  name: string,
  relative: string,
  fn: (path: string) => void | Promise<void>,
): void {
  const path = sharedDataPath(relative);
  if (path === null) {
    console.warn(`SKIPPED (no shared data): "${name}" needs ../shared/data/${relative}`);
  }
  Deno.test({ name, ignore: path === null, fn: () => fn(path!) });
}

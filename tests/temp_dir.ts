/**
 * Temporary folders for tests that are removed when the test module ends (its `unload` event,
 * which `deno test` fires whether the tests passed or failed), so a test run leaves nothing in
 * the system's temp folder even where a helper hands a folder to several tests.
 * Not here: fixtures (tests/fixtures/), the shared data loader (tests/shared_data.ts).
 */

const made: string[] = [];

function removeAll(): void {
  for (const dir of made.splice(0)) {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
}

let isListening = false;

/**
 * A new empty folder under the system temp folder, removed with its contents at unload.
 *
 * @example
 * ```ts
 * const dir = makeTestTempDir("manifest_test_");
 * Deno.writeTextFileSync(`${dir}/m.csv`, "wav_filename,transcript\n");
 * ```
 */
export function makeTestTempDir(prefix = "deno_ctc_test_"): string {
  if (!isListening) {
    globalThis.addEventListener("unload", removeAll);
    isListening = true;
  }
  const dir = Deno.makeTempDirSync({ prefix });
  made.push(dir);
  return dir;
}

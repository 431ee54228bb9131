/**
 * The Philox4x32-10 round function of the cuda dropout kernel (PHILOX_C, the same text NVRTC
 * compiles) built as host C with the system's C compiler and checked against Random123's
 * known-answer vectors, and against the element → word mapping of the dropout mask. Skips
 * loudly when no C compiler is installed.
 */
import assert from "node:assert/strict";
import { PHILOX_C } from "../../../ops/backends/cuda/kernels/dropout.ts";

const cc = ["cc", "gcc", "clang"].find((c) => {
  try {
    return new Deno.Command(c, { args: ["--version"], stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
});
if (!cc) {
  console.warn("SKIPPED: no C compiler (cc, gcc, clang): the CUDA Philox source is not checked on the host");
}

Deno.test({
  name: "the CUDA Philox4x32-10 source matches Random123's known-answer vectors when built as host C",
  ignore: !cc,
  fn() {
    const dir = Deno.makeTempDirSync({ prefix: "philox_" });
    try {
      Deno.writeTextFileSync(
        `${dir}/philox.c`,
        `#include <stdio.h>
#include <stdlib.h>
#define PHILOX_FN static
${PHILOX_C}
int main(int argc, char** argv) {
  u32 c[4];
  for (int i = 0; i < 4; i++) c[i] = (u32)strtoul(argv[1 + i], 0, 16);
  philox4x32_10(c, (u32)strtoul(argv[5], 0, 16), (u32)strtoul(argv[6], 0, 16));
  printf("%08x %08x %08x %08x\\n", c[0], c[1], c[2], c[3]);
  return 0;
}
`,
      );
      const build = new Deno.Command(cc!, { args: ["-O1", "-o", `${dir}/philox`, `${dir}/philox.c`] })
        .outputSync();
      assert.ok(build.success, new TextDecoder().decode(build.stderr));
      const run = (args: string[]): string =>
        new TextDecoder().decode(new Deno.Command(`${dir}/philox`, { args }).outputSync().stdout).trim();
      // Random123 kat_vectors, philox4x32 with 10 rounds: counter words, key words, result words.
      assert.equal(run(["0", "0", "0", "0", "0", "0"]), "6627e8d5 e169c58d bc57ac4c 9b00dbd8");
      const f = "ffffffff";
      assert.equal(run([f, f, f, f, f, f]), "408f276d 41c83b0e a20bc7c6 6d5451fd");
      assert.equal(
        run(["243f6a88", "85a308d3", "13198a2e", "03707344", "a4093822", "299f31d0"]),
        "d16cfe09 94fdcceb 5001e420 24126ea1",
      );
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

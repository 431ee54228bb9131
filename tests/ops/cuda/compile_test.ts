/**
 * Every CUDA C kernel the cuda backend generates compiles with NVRTC for sm_80 (A100) and
 * sm_90 (H100/H200), without a GPU, through the same pipeline and cache keys the backend uses
 * at run time; and the disk cache of cubins is keyed, read back and repaired. Skips loudly when
 * NVRTC is absent (.ci/setup unpacks it into .tools/cuda/).
 */
import assert from "node:assert/strict";
import { CUDA_LIBRARIES, CudaError, openCudaLibrary } from "../../../ops/backends/cuda/ffi/library.ts";
import { isElf, KernelCompiler } from "../../../ops/backends/cuda/compile.ts";
import { allKernelSources } from "../../../ops/backends/cuda/kernels/kernel_sources.ts";
import { elementwiseOps } from "../../../ops/elementwise.ts";

const hasNvrtc = (() => {
  try {
    openCudaLibrary(CUDA_LIBRARIES.nvrtc, {}).close();
    return true;
  } catch (e) {
    console.warn(
      `SKIPPED: libnvrtc is not on this machine, no CUDA kernel is compiled (${(e as Error).message})`,
    );
    return false;
  }
})();

function containsAscii(bytes: Uint8Array, text: string): boolean {
  const needle = new TextEncoder().encode(text);
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

Deno.test("the kernel list covers every elementwise table entry, reduction, softmax op, dropout, conversion, copy, mask, gather, batch norm, CTC and RNN kernel", () => {
  const keys = allKernelSources().map((s) => s.key);
  assert.equal(new Set(keys).size, keys.length, "kernel keys are unique");
  for (const name of Object.keys(elementwiseOps)) {
    assert.ok(keys.some((k) => k.startsWith(`map|${name}|`)), name);
  }
  for (const op of ["sum", "max", "logsumexp"]) {
    assert.ok(keys.some((k) => k.startsWith(`reduce|${op}|`)), op);
  }
  for (const op of ["softmax", "logSoftmax", "softmaxBackward", "logSoftmaxBackward"]) {
    assert.ok(keys.includes(`softmax|${op}`), op);
  }
  for (const key of ["dropoutMask", "convert|bf16", "convert|fp16", "convertBack|bf16", "convertBack|fp16"]) {
    assert.ok(keys.includes(key), key);
  }
  for (const key of ["copy|r1", "copy|r4", "sequenceMask", "biasAdd", "batchNorm", "batchNormBackward"]) {
    assert.ok(keys.includes(key), key);
  }
  for (
    const key of [
      "ctcAlphaBeta",
      "ctcGrad",
      "gather|float|r2|gather",
      "gather|float|r2|scatter",
      "rnn|gruStep",
    ]
  ) {
    assert.ok(keys.includes(key), key);
  }
});

for (const arch of [80, 90]) {
  Deno.test({
    name: `every generated CUDA kernel compiles with NVRTC for sm_${arch}`,
    ignore: !hasNvrtc,
    fn() {
      const compiler = new KernelCompiler(arch, { cacheDir: null });
      const sources = allKernelSources();
      for (const { key, entry, source } of sources) {
        const cubin = compiler.cubin(key, () => source);
        assert.ok(isElf(cubin), `${key}: not an ELF cubin`);
        assert.ok(containsAscii(cubin, entry), `${key}: cubin has no symbol ${entry}`);
      }
      assert.equal(compiler.stats.compiled, sources.length);
      console.log(
        `sm_${arch}: ${sources.length} kernels compiled in ${(compiler.stats.compileMs / 1000).toFixed(1)} s`,
      );
    },
  });
}

Deno.test({
  name: "cubins are cached on disk by source and arch, read back, and recompiled when the file is damaged",
  ignore: !hasNvrtc,
  fn() {
    const dir = Deno.makeTempDirSync({ prefix: "cuda_cache_" });
    try {
      const { key, source } = allKernelSources()[0];
      const first = new KernelCompiler(90, { cacheDir: dir });
      const cubin = first.cubin(key, () => source);
      assert.equal(first.stats.compiled, 1);
      assert.equal(first.cubin(key, () => source), cubin, "the memory cache answers the second call");
      const files = [...Deno.readDirSync(dir)].map((e) => e.name);
      assert.equal(files.length, 1);
      assert.match(files[0], /^[0-9a-f]{64}\.cubin$/);

      const second = new KernelCompiler(90, { cacheDir: dir });
      assert.deepEqual(second.cubin(key, () => source), cubin);
      assert.deepEqual(second.stats, { compiled: 0, readFromDisk: 1, compileMs: 0 });

      new KernelCompiler(80, { cacheDir: dir }).cubin(key, () => source);
      assert.equal([...Deno.readDirSync(dir)].length, 2, "another arch is another file");

      Deno.writeFileSync(`${dir}/${files[0]}`, new Uint8Array([1, 2, 3]));
      const third = new KernelCompiler(90, { cacheDir: dir });
      assert.deepEqual(third.cubin(key, () => source), cubin);
      assert.equal(third.stats.compiled, 1, "a damaged file is compiled again");
      assert.ok(isElf(Deno.readFileSync(`${dir}/${files[0]}`)), "and replaced");
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a kernel that does not compile is an error naming the kernel, the arch and NVRTC's log",
  ignore: !hasNvrtc,
  fn() {
    const compiler = new KernelCompiler(80, { cacheDir: null });
    assert.throws(
      () =>
        compiler.cubin(
          "map|broken",
          () => `extern "C" __global__ void k(float* x) { x[0] = undefined_name; }`,
        ),
      (e: unknown) =>
        e instanceof CudaError &&
        /nvrtcCompileProgram failed for map_broken\.cu \(sm_80\): NVRTC_ERROR_COMPILATION/
          .test(e.message) &&
        /undefined_name/.test(e.message),
    );
  },
});

/**
 * The cuda backend's FFI bindings against the real library files where this machine has them
 * (NVIDIA's pip wheels unpacked under .tools/cuda/ by .ci/setup, a torch venv, or
 * DENO_CTC_CUDA_LIBS): every symbol table loads (Deno.dlopen fails on a missing symbol),
 * the version queries that need no GPU answer, and each library's status check names the
 * call and the library's own status string. A library that is absent is skipped loudly,
 * naming it. libcuda (the driver) is checked against cuda.h when only the header is present.
 */
import assert from "node:assert/strict";
import {
  candidatePaths,
  CUDA_LIBRARIES,
  CUDA_LIBS_VARIABLE,
  CudaError,
  CudaLibraryError,
  type CudaLibrarySpec,
  openCudaLibrary,
  searchFolders,
} from "../../../ops/backends/cuda/ffi/library.ts";
import {
  checkDriverVersion,
  CU_EVENT_DISABLE_TIMING,
  CU_STREAM_NON_BLOCKING,
  CUDA_ERROR_NOT_READY,
  DEVICE_ATTRIBUTE,
  driverSymbols,
  loadDriver,
} from "../../../ops/backends/cuda/ffi/driver.ts";
import { loadNvrtc, NVRTC_ERROR_COMPILATION } from "../../../ops/backends/cuda/ffi/nvrtc.ts";
import {
  CUBLAS_COMPUTE,
  CUBLAS_MATH,
  CUDA_DATA_TYPE,
  loadCublas,
} from "../../../ops/backends/cuda/ffi/cublas.ts";
import { loadCublasLt } from "../../../ops/backends/cuda/ffi/cublas_lt.ts";
import { CUDNN_DATA, CUDNN_MATH, loadCudnn } from "../../../ops/backends/cuda/ffi/cudnn.ts";

/** The path a library would load from, or null (with a loud warning naming it) when absent. */
function locate(spec: CudaLibrarySpec): string | null {
  try {
    const lib = openCudaLibrary(spec, {});
    lib.close();
    return lib.path;
  } catch (e) {
    if (!(e instanceof CudaLibraryError)) throw e;
    console.warn(`SKIPPED: ${spec.name} is not on this machine (${e.message.slice(0, 200)}...)`);
    return null;
  }
}

function libraryTest(spec: CudaLibrarySpec, name: string, fn: () => void): void {
  const path = locate(spec);
  Deno.test({ name, ignore: path === null, fn });
}

/** A header of the unpacked wheels, or null. */
function header(relative: string): string | null {
  for (const folder of searchFolders()) {
    try {
      return Deno.readTextFileSync(`${folder}/../include/${relative}`);
    } catch {
      // not beside this folder
    }
  }
  return null;
}

libraryTest(
  CUDA_LIBRARIES.nvrtc,
  "NVRTC loads with its symbol table and compiles for sm_80 and sm_90",
  () => {
    const nvrtc = loadNvrtc();
    assert.ok(nvrtc.version >= 12000, `NVRTC version ${nvrtc.version}`);
    assert.ok(
      nvrtc.supportedArchs.includes(80) && nvrtc.supportedArchs.includes(90),
      `${nvrtc.supportedArchs}`,
    );
    assert.throws(
      () => nvrtc.check(NVRTC_ERROR_COMPILATION, "nvrtcCompileProgram"),
      (e: unknown) =>
        e instanceof CudaError && /^nvrtcCompileProgram failed: NVRTC_ERROR_COMPILATION$/.test(e.message),
    );
  },
);

libraryTest(CUDA_LIBRARIES.cublas, "cuBLAS loads with its symbol table and names its statuses", () => {
  const cublas = loadCublas();
  assert.ok(cublas.version >= 12000, `cuBLAS version ${cublas.version}`);
  // CUBLAS_STATUS_INVALID_VALUE = 7
  assert.throws(
    () => cublas.check(7, "cublasSgemmStridedBatched"),
    (e: unknown) =>
      e instanceof CudaError && e.call === "cublasSgemmStridedBatched" && e.status === 7 &&
      /cublasSgemmStridedBatched failed: CUBLAS_STATUS_INVALID_VALUE \(.+\)/.test(e.message),
  );
  const api = header("cublas_api.h");
  if (api) {
    assert.match(api, new RegExp(`CUBLAS_COMPUTE_32F_FAST_TF32 = ${CUBLAS_COMPUTE.f32FastTf32},`));
    assert.match(api, new RegExp(`CUBLAS_COMPUTE_32F = ${CUBLAS_COMPUTE.f32},`));
    assert.match(api, new RegExp(`CUBLAS_TF32_TENSOR_OP_MATH = ${CUBLAS_MATH.tf32},`));
  }
  const types = header("library_types.h");
  if (types) {
    assert.match(types, new RegExp(`CUDA_R_16BF = ${CUDA_DATA_TYPE.bf16},`));
    assert.match(types, new RegExp(`CUDA_R_16F  =  ${CUDA_DATA_TYPE.f16},`));
  }
});

libraryTest(CUDA_LIBRARIES.cublasLt, "cuBLASLt loads with its symbol table and names its statuses", () => {
  const lt = loadCublasLt();
  assert.ok(lt.version >= 120000, `cuBLASLt version ${lt.version}`);
  assert.throws(() => lt.check(7, "cublasLtMatmul"), /cublasLtMatmul failed: CUBLAS_STATUS_INVALID_VALUE/);
});

libraryTest(CUDA_LIBRARIES.cudnn, "cuDNN loads with its symbol table and names its statuses", () => {
  const cudnn = loadCudnn();
  assert.ok(cudnn.version >= 90000, `cuDNN version ${cudnn.version}`);
  assert.ok(cudnn.cudartVersion >= 12000, `cuDNN built against CUDA ${cudnn.cudartVersion}`);
  // CUDNN_STATUS_BAD_PARAM = 2000
  assert.throws(
    () => cudnn.check(2000, "cudnnSetTensorNdDescriptor"),
    /cudnnSetTensorNdDescriptor failed: CUDNN_STATUS_BAD_PARAM/,
  );
  const graph = header("cudnn_graph.h");
  if (graph) {
    assert.match(graph, new RegExp(`CUDNN_DATA_BFLOAT16 += ${CUDNN_DATA.bf16},`));
    assert.match(graph, new RegExp(`CUDNN_DATA_HALF += ${CUDNN_DATA.f16},`));
    assert.match(
      graph,
      new RegExp(`CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION = ${CUDNN_MATH.tensorOpAllowConversion},`),
    );
  }
});

const cudaHeader = header("cuda.h");
if (!cudaHeader) console.warn("SKIPPED: cuda.h (nvidia-cuda-runtime wheel) is not on this machine");
Deno.test({
  name: "every driver symbol and constant the backend uses is declared in cuda.h with that value",
  ignore: cudaHeader === null,
  fn() {
    for (const name of Object.keys(driverSymbols)) {
      // Versioned names are macros over the documented declaration: #define cuMemAlloc cuMemAlloc_v2.
      const base = cudaHeader!.match(new RegExp(`#define (\\w+) +(?:__CUDA_API_PTSZ\\()?${name}\\b`))?.[1];
      const declared = (n: string): boolean => new RegExp(`CUresult CUDAAPI ${n}\\(`).test(cudaHeader!);
      assert.ok(
        declared(name) || (base !== undefined && declared(base)),
        `${name} is not declared in cuda.h`,
      );
    }
    assert.match(
      cudaHeader!,
      new RegExp(`CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = ${DEVICE_ATTRIBUTE.computeMajor},`),
    );
    assert.match(
      cudaHeader!,
      new RegExp(`CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = ${DEVICE_ATTRIBUTE.computeMinor},`),
    );
    assert.match(
      cudaHeader!,
      new RegExp(`CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = ${DEVICE_ATTRIBUTE.multiprocessorCount},`),
    );
    assert.match(cudaHeader!, new RegExp(`CUDA_ERROR_NOT_READY += ${CUDA_ERROR_NOT_READY},`));
    assert.match(cudaHeader!, new RegExp(`CU_EVENT_DISABLE_TIMING += 0x${CU_EVENT_DISABLE_TIMING},`));
    assert.match(cudaHeader!, new RegExp(`CU_STREAM_NON_BLOCKING += 0x${CU_STREAM_NON_BLOCKING}`));
  },
});

const hasDriver = (() => {
  try {
    openCudaLibrary(CUDA_LIBRARIES.driver, {}).close();
    return true;
  } catch {
    return false;
  }
})();
if (hasDriver) {
  console.warn("SKIPPED: libcuda.so.1 is installed here, so its missing-library message cannot be shown");
}
Deno.test({
  name: "a missing libcuda names every path tried and the override variable",
  ignore: hasDriver,
  fn() {
    const empty = Deno.makeTempDirSync({ prefix: "cuda_libs_" });
    try {
      // Only the empty folder: the bare soname is still tried, and fails on a machine without a driver.
      assert.throws(
        () => loadDriver([empty]),
        (e: unknown) =>
          e instanceof CudaLibraryError && e.tried.length === 1 &&
          /^libcuda\.so\.1 not found: tried libcuda\.so\.1 \(libcuda\.so\.1: cannot open shared object file.*\)\. libcuda\.so\.1 is installed with NVIDIA's driver.*; set DENO_CTC_CUDA_LIBS/
            .test(e.message),
      );
    } finally {
      Deno.removeSync(empty, { recursive: true });
    }
  },
});

Deno.test("a library file that does not load is listed with the loader's reason", () => {
  const dir = Deno.makeTempDirSync({ prefix: "cuda_libs_" });
  try {
    Deno.writeTextFileSync(`${dir}/libcudnn.so.9`, "not an ELF file");
    const spec = { name: "libcudnn", sonames: ["libcudnn.so.9"] };
    const paths = candidatePaths(spec, [dir]);
    assert.equal(paths[0], `${dir}/libcudnn.so.9`);
    assert.throws(
      () => openCudaLibrary({ name: "libcudnn", sonames: [`${dir}/libcudnn.so.9`] }, {}, [dir]),
      (e: unknown) => e instanceof CudaLibraryError && e.message.includes(`${dir}/libcudnn.so.9 (`),
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("DENO_CTC_CUDA_LIBS folders come first, and a file entry is used only for its own library", () => {
  const dir = Deno.makeTempDirSync({ prefix: "cuda_libs_" });
  try {
    Deno.writeTextFileSync(`${dir}/libcublas.so.12`, "");
    Deno.writeTextFileSync(`${dir}/libcublasLt.so.12`, "");
    const folders = searchFolders(`${dir}:${dir}/libcublasLt.so.12`);
    assert.equal(folders[0], dir);
    assert.deepEqual(candidatePaths(CUDA_LIBRARIES.cublas, folders).slice(0, 1), [`${dir}/libcublas.so.12`]);
    const lt = candidatePaths(CUDA_LIBRARIES.cublasLt, folders);
    assert.deepEqual(lt.slice(0, 1), [`${dir}/libcublasLt.so.12`]);
    assert.ok(!candidatePaths(CUDA_LIBRARIES.cublas, folders).includes(`${dir}/libcublasLt.so.12`));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("pip wheel folders under $VIRTUAL_ENV (site-packages/nvidia/<lib>/lib) are searched", () => {
  const venv = Deno.makeTempDirSync({ prefix: "venv_" });
  const saved = Deno.env.get("VIRTUAL_ENV");
  try {
    const lib = `${venv}/lib/python3.11/site-packages/nvidia/cudnn/lib`;
    Deno.mkdirSync(lib, { recursive: true });
    Deno.writeTextFileSync(`${lib}/libcudnn.so.9`, "");
    Deno.env.set("VIRTUAL_ENV", venv);
    const folders = searchFolders("");
    assert.ok(folders.includes(lib), `${lib} not in ${folders.join(", ")}`);
    assert.ok(candidatePaths(CUDA_LIBRARIES.cudnn, folders).includes(`${lib}/libcudnn.so.9`));
  } finally {
    if (saved === undefined) Deno.env.delete("VIRTUAL_ENV");
    else Deno.env.set("VIRTUAL_ENV", saved);
    Deno.removeSync(venv, { recursive: true });
  }
});

Deno.test("a driver older than a library's CUDA major version is an error naming both versions", () => {
  assert.throws(
    () => checkDriverVersion(12040, "libnvrtc", 13000),
    /The NVIDIA driver supports CUDA 12\.4 but libnvrtc is from CUDA 13\.0/,
  );
  checkDriverVersion(13010, "libnvrtc", 13000);
  checkDriverVersion(12080, "libnvrtc", 12040);
  assert.equal(CUDA_LIBS_VARIABLE, "DENO_CTC_CUDA_LIBS");
});

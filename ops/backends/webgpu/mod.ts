/**
 * The webgpu backend's entry point. Importing this module registers its kernels, one file per
 * op family named like the cpu file: map (every elementwise op), sum, max, logsumexp,
 * softmax, logSoftmax and their backward ops (reduce_sum.ts, reduce.ts over reduction.ts),
 * matmul, reshape, permute, slice/sliceBackward, concat, pad (over strided_copy.ts), gather/
 * gatherBackward, sequenceMask, dropoutMask (dropout.ts over philox.ts), gruLayer/lstmLayer and
 * their backward ops (rnn.ts), batchNorm/batchNormBackward (batch_norm.ts) and ctcLoss
 * (ctc_loss.ts), whose tree reductions share workgroup_reduce.ts, conv1d/conv2d with
 * their backward ops (conv2d.ts, conv1d.ts over conv_gemm.ts and conv_depthwise.ts) and cast.
 * The device gets the adapter's `shader-f16` feature when it has one (float16 storage). `initWebGpu()` asks
 * the platform for an adapter and device and registers the backend under "webgpu". Without an
 * adapter it returns false and says what it looked for, so callers can fall back to the cpu.
 *
 * Which graphics API wgpu uses is Deno's choice (DENO_WEBGPU_BACKEND restricts it): on Linux
 * without Vulkan it may fall back to GL, where Mesa compiled the tiled matmul shader in
 * minutes; DENO_WEBGPU_BACKEND=vulkan avoids that (no adapter then, and the cpu is used).
 *
 * Not here: choosing among several adapters.
 */
import { addBackend, getBackend } from "../../backend_registry.ts";
import { WebGpuBackend } from "./backend.ts";
import "./map.ts";
import "./reduce_sum.ts";
import "./reduce.ts";
import "./matmul.ts";
import "./reshape.ts";
import "./permute.ts";
import "./slice.ts";
import "./concat.ts";
import "./pad.ts";
import "./gather.ts";
import "./masks.ts";
import "./dropout.ts";
import "./rnn.ts";
import "./batch_norm.ts";
import "./ctc_loss.ts";
import "./conv1d.ts";
import "./cast.ts";

export {
  type BindingKind,
  GpuStorage,
  type PoolStats,
  sizeClass,
  WebGpuBackend,
  type WebGpuBackendOptions,
} from "./backend.ts";

/** Options of `initWebGpu`. */
export interface InitWebGpuOptions {
  /** Passed to `navigator.gpu.requestAdapter`; "high-performance" (a discrete GPU over others) by default. */
  powerPreference?: "low-power" | "high-performance";
  /** Do not print the warning when no adapter is found. */
  quiet?: boolean;
  /** Idle pooled bytes above which freed buffers are destroyed (default 1 GiB). */
  maxPooledBytes?: number;
}

let initialised: WebGpuBackend | null = null;
let lastFailure: string | null = null;

/**
 * Requests a WebGPU adapter and device and registers the "webgpu" backend. Resolves true when
 * the backend is ready (also on repeated calls), false (with a warning) when no adapter exists.
 *
 * @example
 * ```ts
 * if (await initWebGpu()) {
 *   const x = tensor([1, -2, 3], [3], { backend: "webgpu" });
 *   console.log(await relu(x).data()); // Float32Array [1, 0, 3]
 * }
 * ```
 */
export async function initWebGpu(options: InitWebGpuOptions = {}): Promise<boolean> {
  if (initialised && !initialised.isDisposed) return true;
  const warn = (why: string): false => {
    lastFailure = why;
    if (!options.quiet) {
      console.warn(
        `webgpu backend unavailable: ${why}. Looked for a WebGPU adapter through navigator.gpu.requestAdapter() ` +
          `(Vulkan on Linux; on Debian/Ubuntu install mesa-vulkan-drivers and libvulkan1 for the llvmpipe ` +
          `CPU adapter or a GPU driver with Vulkan support, and set XDG_RUNTIME_DIR, as ./deno does).`,
      );
    }
    return false;
  };
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return warn("navigator.gpu does not exist in this runtime");
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? "high-performance" });
  } catch (e) {
    return warn(`requestAdapter() threw ${(e as Error).message}`);
  }
  if (!adapter) return warn("requestAdapter() returned null");
  let device: GPUDevice;
  try {
    // Ask for the adapter's own buffer limits: the defaults (128 MiB bindings) are too small
    // for activations of long utterances.
    // shader-f16, where the adapter has it, lets float16 tensors (mixed precision) live here.
    const requiredFeatures: GPUFeatureName[] = adapter.features.has("shader-f16") ? ["shader-f16"] : [];
    device = await adapter.requestDevice({
      requiredFeatures,
      requiredLimits: {
        maxBufferSize: adapter.limits.maxBufferSize,
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
      },
    });
  } catch (e) {
    return warn(`requestDevice() failed: ${(e as Error).message}`);
  }
  const info = adapter.info;
  const description = info.description || `${info.vendor} ${info.architecture} ${info.device}`.trim();
  // llvmpipe reports isFallbackAdapter; older runtimes lack the field, so the name is checked too.
  const isCpuAdapter = info.isFallbackAdapter === true || /llvmpipe|lavapipe|swiftshader/i.test(description);
  initialised = new WebGpuBackend(device, {
    maxPooledBytes: options.maxPooledBytes,
    adapterDescription: description,
    isCpuAdapter,
  });
  addBackend(initialised);
  return true;
}

/**
 * Initialises the backend without a warning: null when it is ready, else why not (for
 * `listBackends` in ops/backends/mod.ts).
 */
export async function probeWebGpu(): Promise<string | null> {
  return await initWebGpu({ quiet: true }) ? null : lastFailure;
}

/** The registered webgpu backend, or null before a successful `initWebGpu()`. */
export function webGpuBackend(): WebGpuBackend | null {
  return initialised && !initialised.isDisposed && getBackend(initialised.name) === initialised
    ? initialised
    : null;
}

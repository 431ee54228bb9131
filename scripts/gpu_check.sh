#!/usr/bin/env bash
# One-shot check of the GPU backends on a machine with a real NVIDIA GPU (e.g. a lent H100 or
# H200): prints the device, runs the webgpu tests and conformance cases, the cuda backend's
# device tests and conformance cases, then benchmarks the cuda backend beside PyTorch on CUDA
# (ops, then whole training steps of quartznet_small and Jasper 10x5; interleaved, with ratios)
# and the webgpu bench. Every step has its own time limit, chosen so
# that the whole run stays under 10 minutes, and a failing step does not stop the next. Exit
# status: 0 only if every test step passed.
#
# Before lending: `scripts/gpu_check.sh --pack` writes .denogpu/deno.xz (this checkout's Deno,
# xz-compressed, ~30 MB: the copied tree is limited to 64 MiB) and the run carries .denogpu.
#
# Offline machines: Deno comes from .tools/ (./deno), else from .denogpu/deno.xz; Vulkan loader
# packages, when the image lacks them, from .gl/*.deb (fetched beforehand with
# `apt-get download libvulkan1`). Output is also written to $OUT/gpu_check.log when $OUT is set.
#
# CUDA libraries: cuBLAS, cuDNN and NVRTC come from the torch venv's site-packages/nvidia/*/lib
# ($TORCH_PYTHON, else python3): DENO_CTC_CUDA_LIBS is set to those folders; libcuda.so.1 is the
# driver's, found by the loader. The same python serves the torch side of the benchmark.
#
# WebGPU is pinned to Vulkan (DENO_WEBGPU_BACKEND=vulkan unless set): wgpu's GL fallback works
# but Mesa's GL path compiled the tiled matmul shader in minutes, not milliseconds.
#
# Not here: multi-GPU runs, training to convergence (a later issue's demo).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "${1:-}" = "--pack" ]; then
  bin=.tools/node_modules/@deno/linux-x64-glibc/deno
  [ -x "$bin" ] || { ./deno --version >/dev/null && [ -x "$bin" ]; } || { echo "no Deno in .tools/"; exit 2; }
  mkdir -p .denogpu
  xz -6 -T0 -c "$bin" >.denogpu/deno.xz && ls -l .denogpu/deno.xz
  exit $?
fi

log="${OUT:-/tmp}/gpu_check.log"
exec > >(tee "$log") 2>&1

step() { echo; echo "=== $* ($(date -u +%H:%M:%S)) ==="; }
status=0

step "machine"
date -u
(command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv) ||
  echo "nvidia-smi: not present"

step "Deno"
deno=./deno
if [ ! -x .tools/node_modules/@deno/linux-x64-glibc/deno ] && [ -f .denogpu/deno.xz ]; then
  deno="${TMPDIR:-/tmp}/deno-ctc-deno"
  xz -dc .denogpu/deno.xz >"$deno" && chmod +x "$deno"
  export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}/deno-ctc-xdg-$(id -u)}"
  mkdir -p -m 700 "$XDG_RUNTIME_DIR"
fi
"$deno" --version || { echo "no Deno: carry .tools/ or .denogpu/deno.xz (scripts/gpu_check.sh --pack)"; exit 2; }
export DENO_CTC_QUIET=1

step "CUDA libraries from the torch venv"
py="${TORCH_PYTHON:-python3}"
site=$("$py" -c 'import os, torch; print(os.path.dirname(os.path.dirname(torch.__file__)))' 2>/dev/null)
if [ -n "$site" ]; then
  libs=$(ls -d "$site"/nvidia/*/lib 2>/dev/null | paste -sd: -)
  export DENO_CTC_CUDA_LIBS="${DENO_CTC_CUDA_LIBS:+$DENO_CTC_CUDA_LIBS:}$libs"
  # cuDNN's engines open cuBLASLt and NVRTC by soname: the loader's path must hold them too.
  export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export REF_PYTHON="$py"
  "$py" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, "cuDNN", torch.backends.cudnn.version(), "device", torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)'
  echo "DENO_CTC_CUDA_LIBS=$DENO_CTC_CUDA_LIBS"
else
  echo "no torch in $py: cuBLAS/cuDNN/NVRTC must be on the loader's path or in DENO_CTC_CUDA_LIBS; no torch bench"
fi
export DENO_CTC_CUDA_CACHE="${TMPDIR:-/tmp}/deno-ctc-cuda-cache"

step "Vulkan loader and driver"
if ! ldconfig -p | grep -q libvulkan.so.1 && compgen -G ".gl/*.deb" >/dev/null; then
  echo "unpacking Vulkan loader packages from .gl/"
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
ldconfig -p | grep libvulkan || echo "no libvulkan.so.1: WebGPU will find no Vulkan adapter"
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$nvidia_icd" ] && ! ls /usr/share/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
  export VK_DRIVER_FILES="$nvidia_icd"
  echo "VK_DRIVER_FILES=$VK_DRIVER_FILES"
fi
# Containers given only the compute driver capabilities carry libGLX_nvidia (NVIDIA's Vulkan
# driver) without its ICD manifest: write one so the Vulkan loader can find it.
if [ -z "${VK_DRIVER_FILES:-}" ] && ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
  glx=$(ldconfig -p | awk '/libGLX_nvidia.so.0/ {print $NF; exit}')
  [ -z "$glx" ] && glx=$(find / -xdev -name 'libGLX_nvidia.so.0' 2>/dev/null | head -1)
  if [ -n "$glx" ]; then
    icd="${TMPDIR:-/tmp}/nvidia_icd.json"
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$glx" >"$icd"
    export VK_DRIVER_FILES="$icd"
    echo "wrote $icd for $glx"
  else
    echo "no libGLX_nvidia.so.0 on this machine: NVIDIA's Vulkan driver is not mounted"
  fi
fi

export DENO_WEBGPU_BACKEND="${DENO_WEBGPU_BACKEND:-vulkan}"

step "backends this build finds"
timeout 30 "$deno" eval '
import { listBackends } from "./ops/backends/mod.ts";
const found = await listBackends();
for (const b of found) console.log(`${b.name}: ${b.isAvailable ? "available" : "UNAVAILABLE"}, ${b.description}`);
if (!found.find((b) => b.name === "cuda")?.isAvailable) Deno.exit(3);
'
probe=$?
# On a GPU machine an unavailable cuda backend is a failure, not a skip.
if [ $probe -ne 0 ] && command -v nvidia-smi >/dev/null; then
  echo "FAILED: nvidia-smi sees a GPU but the cuda backend is unavailable (see above)"
  status=1
fi

step "cuda device tests"
timeout 80 "$deno" test -A tests/ops/cuda/device_test.ts tests/ops/cuda/training_test.ts || status=1
step "conformance cases on cuda"
# TF32 off: the cases compare f32 results against float64 at f32 tolerances.
DENO_CTC_CUDA_TF32=0 CONFORMANCE_BACKENDS=cuda timeout 80 "$deno" test -A tests/ops/conformance_test.ts || status=1

step "cuda beside torch (interleaved)"
if [ -n "$site" ]; then
  timeout 110 "$deno" run -A bench/cuda_vs_torch.ts --reps "${GPU_CHECK_REPS:-5}" --iters 20 ||
    echo "cuda op bench failed or timed out"
  step "training steps on cuda beside torch (interleaved)"
  timeout 120 "$deno" run -A bench/cuda_train_vs_torch.ts --configs "${GPU_CHECK_CONFIGS:-quartznet_small,jasper}" \
    --reps "${GPU_CHECK_REPS:-5}" || echo "cuda training bench failed or timed out"
fi

step "webgpu backend tests (DENO_WEBGPU_BACKEND=$DENO_WEBGPU_BACKEND)"
timeout 60 "$deno" test -A tests/ops/webgpu_backend_test.ts || status=1
step "conformance cases on webgpu"
CONFORMANCE_BACKENDS=webgpu timeout 60 "$deno" test -A tests/ops/conformance_test.ts || status=1
step "webgpu bench"
timeout 30 "$deno" run -A bench/webgpu_bench.ts --sizes "${GPU_CHECK_SIZES:-1024,2048}" --skip-cpu ||
  echo "webgpu bench failed or timed out"

step "done: tests $([ $status -eq 0 ] && echo passed || echo FAILED)"
exit $status

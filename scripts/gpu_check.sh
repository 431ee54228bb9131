#!/usr/bin/env bash
# One-shot check of the webgpu backend on a machine with a real GPU (e.g. a lent H100 with
# NVIDIA's Vulkan driver): prints the adapter Deno finds, runs the webgpu backend tests and the
# webgpu conformance cases, then the webgpu bench. A few minutes in all; every step has its
# own time limit and a failing step does not stop the next. Exit status: 0 only if both test
# steps passed.
#
# Offline machines: Deno comes from .tools/ (./deno), else from .denogpu/deno.xz (an xz of the
# same binary, small enough to carry); Vulkan loader packages, when the image lacks them, from
# .gl/*.deb (fetched beforehand with `apt-get download libvulkan1`). Output is also written
# to $OUT/gpu_check.log when $OUT is set.
#
# WebGPU is pinned to Vulkan (DENO_WEBGPU_BACKEND=vulkan unless set): wgpu's GL fallback works
# but Mesa's GL path compiled the tiled matmul shader in minutes, not milliseconds. Set
# DENO_WEBGPU_BACKEND=gl to try it anyway.
#
# Not here: CUDA (a later backend), and any timing comparison against another card.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log="${OUT:-/tmp}/gpu_check.log"
exec > >(tee "$log") 2>&1

step() { echo; echo "=== $* ==="; }

step "machine"
date -u
(command -v nvidia-smi >/dev/null && nvidia-smi -L) || echo "nvidia-smi: not present"

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
ls /usr/share/vulkan/icd.d/ /etc/vulkan/icd.d/ 2>/dev/null

step "Deno"
deno=./deno
if [ ! -x .tools/node_modules/@deno/linux-x64-glibc/deno ] && [ -f .denogpu/deno.xz ]; then
  deno="${TMPDIR:-/tmp}/deno-ctc-deno"
  xz -dc .denogpu/deno.xz >"$deno" && chmod +x "$deno"
  export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}/deno-ctc-xdg-$(id -u)}"
  mkdir -p -m 700 "$XDG_RUNTIME_DIR"
fi
"$deno" --version || { echo "no Deno: carry .tools/ or .denogpu/deno.xz"; exit 2; }

export DENO_WEBGPU_BACKEND="${DENO_WEBGPU_BACKEND:-vulkan}"
step "adapter (DENO_WEBGPU_BACKEND=$DENO_WEBGPU_BACKEND)"
timeout 60 "$deno" eval '
const a = await navigator.gpu?.requestAdapter({ powerPreference: "high-performance" });
if (!a) { console.log("no WebGPU adapter"); Deno.exit(1); }
const l = a.limits;
console.log(JSON.stringify({ info: a.info, maxBufferSize: l.maxBufferSize,
  maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
  maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
  maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup }, null, 1));
' || echo "adapter query failed"

status=0
step "webgpu backend tests"
timeout 150 "$deno" test -A tests/ops/webgpu_backend_test.ts || status=1
step "conformance cases on webgpu"
timeout 150 "$deno" test -A tests/ops/conformance_test.ts --filter webgpu || status=1
step "webgpu bench"
timeout 120 "$deno" run -A bench/webgpu_bench.ts --sizes "${GPU_CHECK_SIZES:-256,1024,2048}" --skip-cpu ||
  echo "bench failed or timed out"
step "done: tests $([ $status -eq 0 ] && echo passed || echo FAILED)"
exit $status

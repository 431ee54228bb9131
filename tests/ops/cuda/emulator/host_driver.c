/*
 * A host emulation of the CUDA driver API subset the cuda backend calls, for tests on machines
 * without a GPU: device memory is malloc'd host memory (filled with 0xff bytes, NaN as f32, so
 * a kernel that reads what it never wrote shows it), copies are memcpy, streams and events are
 * always complete, a "module" is a shared library built from the kernel's CUDA C by the test
 * (tests/ops/cuda/emulator/emulator.ts), and cuLaunchKernel calls its emu_launch_<name>
 * trampoline. Not a simulator of GPU timing or concurrency: blocks and threads run one by one.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;
static char token;  /* the address handed out as context, stream and event */

CUresult cuInit(unsigned flags) { (void)flags; return 0; }
CUresult cuDriverGetVersion(int* v) { *v = 13000; return 0; }
CUresult cuGetErrorName(int s, const char** p) { *p = s == 2 ? "CUDA_ERROR_OUT_OF_MEMORY" : "CUDA_ERROR_EMULATED"; return 0; }
CUresult cuGetErrorString(int s, const char** p) { *p = s == 2 ? "out of memory" : "host emulation error"; return 0; }
CUresult cuDeviceGetCount(int* n) { *n = 1; return 0; }
CUresult cuDeviceGet(int* d, int ordinal) { *d = ordinal; return 0; }
CUresult cuDeviceGetName(char* name, int len, int dev) { (void)dev; strncpy(name, "host emulator", len); return 0; }
CUresult cuDeviceGetAttribute(int* v, int attr, int dev) {
  (void)dev;
  *v = attr == 75 ? 9 : attr == 76 ? 0 : attr == 16 ? 1 : 0;
  return 0;
}
CUresult cuDeviceTotalMem_v2(size_t* bytes, int dev) { (void)dev; *bytes = (size_t)1 << 32; return 0; }
CUresult cuDevicePrimaryCtxRetain(void** ctx, int dev) { (void)dev; *ctx = &token; return 0; }
CUresult cuDevicePrimaryCtxRelease_v2(int dev) { (void)dev; return 0; }
CUresult cuCtxSetCurrent(void* ctx) { (void)ctx; return 0; }
CUresult cuCtxSynchronize(void) { return 0; }
CUresult cuMemGetInfo_v2(size_t* free_bytes, size_t* total) { *free_bytes = *total = (size_t)1 << 32; return 0; }
CUresult cuMemAlloc_v2(CUdeviceptr* p, size_t n) {
  void* m = malloc(n ? n : 1);
  if (!m) return 2;
  memset(m, 0xff, n);
  *p = (CUdeviceptr)(uintptr_t)m;
  return 0;
}
CUresult cuMemFree_v2(CUdeviceptr p) { free((void*)(uintptr_t)p); return 0; }
CUresult cuMemAllocHost_v2(void** p, size_t n) { *p = malloc(n ? n : 1); return *p ? 0 : 2; }
CUresult cuMemFreeHost(void* p) { free(p); return 0; }
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t n, void* s) {
  (void)s; memcpy((void*)(uintptr_t)dst, src, n); return 0;
}
CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t n, void* s) {
  (void)s; memcpy(dst, (void*)(uintptr_t)src, n); return 0;
}
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, void* s) {
  (void)s; memmove((void*)(uintptr_t)dst, (void*)(uintptr_t)src, n); return 0;
}
CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned v, size_t n, void* s) {
  (void)s;
  unsigned* d = (unsigned*)(uintptr_t)dst;
  for (size_t i = 0; i < n; i++) d[i] = v;
  return 0;
}
CUresult cuStreamCreate(void** s, unsigned flags) { (void)flags; *s = &token; return 0; }
CUresult cuStreamDestroy_v2(void* s) { (void)s; return 0; }
CUresult cuStreamSynchronize(void* s) { (void)s; return 0; }
CUresult cuEventCreate(void** e, unsigned flags) { (void)flags; *e = &token; return 0; }
CUresult cuEventDestroy_v2(void* e) { (void)e; return 0; }
CUresult cuEventRecord(void* e, void* s) { (void)e; (void)s; return 0; }
CUresult cuEventQuery(void* e) { (void)e; return 0; }
CUresult cuEventSynchronize(void* e) { (void)e; return 0; }
CUresult cuEventElapsedTime(float* ms, void* a, void* b) { (void)a; (void)b; *ms = 0; return 0; }
/* The image is the NUL-terminated path of the shared library built from the kernel source. */
CUresult cuModuleLoadData(void** m, const void* image) {
  *m = dlopen((const char*)image, RTLD_NOW | RTLD_LOCAL);
  return *m ? 0 : 999;
}
CUresult cuModuleUnload(void* m) { dlclose(m); return 0; }
CUresult cuModuleGetFunction(void** f, void* m, const char* name) {
  char symbol[256];
  strcpy(symbol, "emu_launch_");
  strncat(symbol, name, sizeof symbol - strlen(symbol) - 1);
  *f = dlsym(m, symbol);
  return *f ? 0 : 999;
}
typedef void (*Trampoline)(void** args, unsigned gx, unsigned gy, unsigned bx);
CUresult cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, void* stream, void** params, void** extra) {
  (void)gz; (void)by; (void)bz; (void)shared; (void)stream; (void)extra;
  ((Trampoline)f)(params, gx, gy, bx);
  return 0;
}

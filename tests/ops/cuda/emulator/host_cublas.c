/*
 * A host emulation of the cuBLAS calls the cuda backend makes, for tests without a GPU:
 * column-major strided batched GEMM in plain loops (f32 operands only; a reduced-precision
 * type is refused with CUBLAS_STATUS_NOT_SUPPORTED), over the host addresses that
 * host_driver.c hands out as device pointers.
 */
#include <stdint.h>

typedef int cublasStatus_t;
static char token;

const char* cublasGetStatusName(int s) { return s == 0 ? "CUBLAS_STATUS_SUCCESS" : s == 15 ? "CUBLAS_STATUS_NOT_SUPPORTED" : "CUBLAS_STATUS_INVALID_VALUE"; }
const char* cublasGetStatusString(int s) { return s == 0 ? "success" : "host emulation: unsupported"; }
cublasStatus_t cublasGetProperty(int type, int* v) { *v = type == 0 ? 13 : type == 1 ? 0 : 0; return 0; }
cublasStatus_t cublasCreate_v2(void** h) { *h = &token; return 0; }
cublasStatus_t cublasDestroy_v2(void* h) { (void)h; return 0; }
cublasStatus_t cublasSetStream_v2(void* h, void* s) { (void)h; (void)s; return 0; }
cublasStatus_t cublasSetMathMode(void* h, int m) { (void)h; (void)m; return 0; }
cublasStatus_t cublasSetWorkspace_v2(void* h, unsigned long long w, unsigned long n) { (void)h; (void)w; (void)n; return 0; }

static void gemm(int ta, int tb, int m, int n, int k, float alpha, const float* A, int lda, long long sa,
                 const float* B, int ldb, long long sb, float beta, float* C, int ldc, long long sc, int batch) {
  for (int q = 0; q < batch; q++) {
    const float* a = A + q * sa; const float* b = B + q * sb; float* c = C + q * sc;
    for (int j = 0; j < n; j++) {
      for (int i = 0; i < m; i++) {
        double acc = 0;
        for (int p = 0; p < k; p++) {
          float x = ta ? a[p + (long long)i * lda] : a[i + (long long)p * lda];
          float y = tb ? b[j + (long long)p * ldb] : b[p + (long long)j * ldb];
          acc += (double)x * y;
        }
        float* out = &c[i + (long long)j * ldc];
        *out = (float)(alpha * acc) + (beta == 0 ? 0.0f : beta * *out);
      }
    }
  }
}

cublasStatus_t cublasSgemmStridedBatched(void* h, int ta, int tb, int m, int n, int k, const float* alpha,
    unsigned long long A, int lda, long long sa, unsigned long long B, int ldb, long long sb, const float* beta,
    unsigned long long C, int ldc, long long sc, int batch) {
  (void)h;
  gemm(ta, tb, m, n, k, *alpha, (const float*)(uintptr_t)A, lda, sa, (const float*)(uintptr_t)B, ldb, sb, *beta,
       (float*)(uintptr_t)C, ldc, sc, batch);
  return 0;
}

cublasStatus_t cublasGemmStridedBatchedEx(void* h, int ta, int tb, int m, int n, int k, const void* alpha,
    unsigned long long A, int at, int lda, long long sa, unsigned long long B, int bt, int ldb, long long sb,
    const void* beta, unsigned long long C, int ct, int ldc, long long sc, int batch, int compute, int algo) {
  (void)compute; (void)algo;
  if (at != 0 || bt != 0 || ct != 0) return 15;
  return cublasSgemmStridedBatched(h, ta, tb, m, n, k, (const float*)alpha, A, lda, sa, B, ldb, sb,
                                   (const float*)beta, C, ldc, sc, batch);
}

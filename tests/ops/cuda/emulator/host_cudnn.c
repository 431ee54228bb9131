/*
 * A host emulation of the cuDNN 9 calls the cuda backend makes, for tests without a GPU:
 * NCHW descriptors, an algorithm search that offers one algorithm needing no workspace, and
 * convolution forward, backward-data and backward-filter (cross-correlation with padding,
 * stride, dilation and groups) in plain loops over the host addresses host_driver.c hands out.
 * f32 only (a reduced-precision descriptor is refused).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int cudnnStatus_t;
static char token;
typedef struct { int type; int dims[4]; int strides[4]; } Tensor;
typedef struct { int type; int dims[4]; } Filter;
typedef struct { int pad[2]; int stride[2]; int dilation[2]; int groups; } Conv;

size_t cudnnGetVersion(void) { return 92400; }
size_t cudnnGetCudartVersion(void) { return 13000; }
const char* cudnnGetErrorString(int s) { return s == 0 ? "CUDNN_STATUS_SUCCESS" : "CUDNN_STATUS_NOT_SUPPORTED (host emulation)"; }
cudnnStatus_t cudnnCreate(void** h) { *h = &token; return 0; }
cudnnStatus_t cudnnDestroy(void* h) { (void)h; return 0; }
cudnnStatus_t cudnnSetStream(void* h, void* s) { (void)h; (void)s; return 0; }
cudnnStatus_t cudnnCreateTensorDescriptor(void** d) { *d = calloc(1, sizeof(Tensor)); return 0; }
cudnnStatus_t cudnnSetTensorNdDescriptor(Tensor* d, int type, int n, const int* dims, const int* strides) {
  if (n != 4 || type != 0) return 3000;
  d->type = type; memcpy(d->dims, dims, 16); memcpy(d->strides, strides, 16); return 0;
}
cudnnStatus_t cudnnDestroyTensorDescriptor(void* d) { free(d); return 0; }
cudnnStatus_t cudnnCreateFilterDescriptor(void** d) { *d = calloc(1, sizeof(Filter)); return 0; }
cudnnStatus_t cudnnSetFilterNdDescriptor(Filter* d, int type, int format, int n, const int* dims) {
  if (n != 4 || type != 0 || format != 0) return 3000;
  d->type = type; memcpy(d->dims, dims, 16); return 0;
}
cudnnStatus_t cudnnDestroyFilterDescriptor(void* d) { free(d); return 0; }
cudnnStatus_t cudnnCreateConvolutionDescriptor(void** d) { Conv* c = calloc(1, sizeof(Conv)); c->groups = 1; *d = c; return 0; }
cudnnStatus_t cudnnSetConvolutionNdDescriptor(Conv* c, int n, const int* pad, const int* stride, const int* dilation,
                                              int mode, int type) {
  if (n != 2 || mode != 1 || type != 0) return 3000;
  memcpy(c->pad, pad, 8); memcpy(c->stride, stride, 8); memcpy(c->dilation, dilation, 8); return 0;
}
cudnnStatus_t cudnnSetConvolutionGroupCount(Conv* c, int g) { c->groups = g; return 0; }
cudnnStatus_t cudnnSetConvolutionMathType(Conv* c, int m) { (void)c; (void)m; return 0; }
cudnnStatus_t cudnnDestroyConvolutionDescriptor(void* d) { free(d); return 0; }

/* One algorithm (0), status success, no workspace: the 48-byte cudnnConvolution*AlgoPerf_t. */
static cudnnStatus_t find(int* returned, unsigned char* perf) {
  memset(perf, 0, 48);
  *returned = 1;
  return 0;
}
cudnnStatus_t cudnnFindConvolutionForwardAlgorithmEx(void* h, void* a, uint64_t ap, void* b, uint64_t bp, void* c,
    void* o, uint64_t op, int req, int* ret, unsigned char* perf, uint64_t ws, size_t wsb) {
  (void)h; (void)a; (void)ap; (void)b; (void)bp; (void)c; (void)o; (void)op; (void)req; (void)ws; (void)wsb;
  return find(ret, perf);
}
cudnnStatus_t cudnnFindConvolutionBackwardDataAlgorithmEx(void* h, void* a, uint64_t ap, void* b, uint64_t bp,
    void* c, void* o, uint64_t op, int req, int* ret, unsigned char* perf, uint64_t ws, size_t wsb) {
  (void)h; (void)a; (void)ap; (void)b; (void)bp; (void)c; (void)o; (void)op; (void)req; (void)ws; (void)wsb;
  return find(ret, perf);
}
cudnnStatus_t cudnnFindConvolutionBackwardFilterAlgorithmEx(void* h, void* a, uint64_t ap, void* b, uint64_t bp,
    void* c, void* o, uint64_t op, int req, int* ret, unsigned char* perf, uint64_t ws, size_t wsb) {
  (void)h; (void)a; (void)ap; (void)b; (void)bp; (void)c; (void)o; (void)op; (void)req; (void)ws; (void)wsb;
  return find(ret, perf);
}

/* Visits every (x element, w element, y element) triple of the convolution. */
#define FOR_EACH_TAP(X, W, Y, C, BODY)                                                                  \
  {                                                                                                   \
    int N = X->dims[0], CI = X->dims[1], IH = X->dims[2], IW = X->dims[3];                            \
    int CO = W->dims[0], CG = W->dims[1], KH = W->dims[2], KW = W->dims[3];                           \
    int OH = Y->dims[2], OW = Y->dims[3], COG = CO / C->groups;                                       \
    (void)CI;                                                                                         \
    for (int n = 0; n < N; n++)                                                                       \
      for (int co = 0; co < CO; co++)                                                                 \
        for (int oh = 0; oh < OH; oh++)                                                               \
          for (int ow = 0; ow < OW; ow++)                                                             \
            for (int cg = 0; cg < CG; cg++)                                                           \
              for (int kh = 0; kh < KH; kh++)                                                         \
                for (int kw = 0; kw < KW; kw++) {                                                     \
                  int ih = oh * C->stride[0] - C->pad[0] + kh * C->dilation[0];                       \
                  int iw = ow * C->stride[1] - C->pad[1] + kw * C->dilation[1];                       \
                  if (ih < 0 || ih >= IH || iw < 0 || iw >= IW) continue;                             \
                  int ci = (co / COG) * CG + cg;                                                      \
                  size_t xi = (((size_t)n * X->dims[1] + ci) * IH + ih) * IW + iw;                    \
                  size_t wi = (((size_t)co * CG + cg) * KH + kh) * KW + kw;                           \
                  size_t yi = (((size_t)n * CO + co) * OH + oh) * OW + ow;                            \
                  BODY                                                                                \
                }                                                                                     \
  }

static void scale(float* p, size_t n, float beta) { for (size_t i = 0; i < n; i++) p[i] = beta == 0 ? 0 : beta * p[i]; }
static size_t count(const int* d) { return (size_t)d[0] * d[1] * d[2] * d[3]; }

cudnnStatus_t cudnnConvolutionForward(void* h, const float* alpha, Tensor* xd, uint64_t x, Filter* wd, uint64_t w,
    Conv* c, int algo, uint64_t ws, size_t wsb, const float* beta, Tensor* yd, uint64_t y) {
  (void)h; (void)algo; (void)ws; (void)wsb;
  const float* X = (const float*)(uintptr_t)x; const float* Wt = (const float*)(uintptr_t)w; float* Y = (float*)(uintptr_t)y;
  scale(Y, count(yd->dims), *beta);
  FOR_EACH_TAP(xd, wd, yd, c, { Y[yi] += *alpha * X[xi] * Wt[wi]; })
  return 0;
}
cudnnStatus_t cudnnConvolutionBackwardData(void* h, const float* alpha, Filter* wd, uint64_t w, Tensor* dyd,
    uint64_t dy, Conv* c, int algo, uint64_t ws, size_t wsb, const float* beta, Tensor* dxd, uint64_t dx) {
  (void)h; (void)algo; (void)ws; (void)wsb;
  const float* Wt = (const float*)(uintptr_t)w; const float* DY = (const float*)(uintptr_t)dy; float* DX = (float*)(uintptr_t)dx;
  scale(DX, count(dxd->dims), *beta);
  FOR_EACH_TAP(dxd, wd, dyd, c, { DX[xi] += *alpha * DY[yi] * Wt[wi]; })
  return 0;
}
cudnnStatus_t cudnnConvolutionBackwardFilter(void* h, const float* alpha, Tensor* xd, uint64_t x, Tensor* dyd,
    uint64_t dy, Conv* c, int algo, uint64_t ws, size_t wsb, const float* beta, Filter* dwd, uint64_t dw) {
  (void)h; (void)algo; (void)ws; (void)wsb;
  const float* X = (const float*)(uintptr_t)x; const float* DY = (const float*)(uintptr_t)dy; float* DW = (float*)(uintptr_t)dw;
  scale(DW, count(dwd->dims), *beta);
  FOR_EACH_TAP(xd, dwd, dyd, c, { DW[wi] += *alpha * X[xi] * DY[yi]; })
  return 0;
}

/*
 * The cuBLASLt symbols the cuda backend binds, for the host emulation: the backend loads
 * cuBLASLt (for cuDNN's sake) but calls only its version query; every other call is refused.
 */
#include <stddef.h>
size_t cublasLtGetVersion(void) { return 130000; }
const char* cublasLtGetStatusName(int s) { return s == 0 ? "CUBLAS_STATUS_SUCCESS" : "CUBLAS_STATUS_NOT_SUPPORTED"; }
const char* cublasLtGetStatusString(int s) { return s == 0 ? "success" : "host emulation: unsupported"; }
#define REFUSED(name) int name() { return 15; }
REFUSED(cublasLtCreate) REFUSED(cublasLtDestroy) REFUSED(cublasLtMatmulDescCreate) REFUSED(cublasLtMatmulDescDestroy)
REFUSED(cublasLtMatmulDescSetAttribute) REFUSED(cublasLtMatrixLayoutCreate) REFUSED(cublasLtMatrixLayoutDestroy)
REFUSED(cublasLtMatrixLayoutSetAttribute) REFUSED(cublasLtMatmulPreferenceCreate) REFUSED(cublasLtMatmulPreferenceDestroy)
REFUSED(cublasLtMatmulPreferenceSetAttribute) REFUSED(cublasLtMatmulAlgoGetHeuristic) REFUSED(cublasLtMatmul)

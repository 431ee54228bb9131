/**
 * Element types. float32 is what models run in; int32 holds indices, labels and lengths;
 * float64 exists on the cpu backend only, so that gradients can be checked by finite
 * differences at double precision (like PyTorch's gradcheck); float16 is the storage type of
 * mixed-precision training (the inputs of matmul and convolutions, see ops/cast.ts), and only
 * the ops that declare `acceptsFloat16` take it.
 */

/** Element type of a tensor. */
export type DType = "float32" | "int32" | "float64" | "float16";

/** Typed array that holds a tensor's elements on the host. */
export type TypedArray = Float32Array | Int32Array | Float64Array | Float16Array;

/** Allocates a zeroed host array of `dtype` with `size` elements. */
export function allocHost(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(size);
    case "int32":
      return new Int32Array(size);
    case "float64":
      return new Float64Array(size);
    case "float16":
      return new Float16Array(size);
  }
}

/** The dtype of a typed array. */
export function dtypeOf(data: TypedArray): DType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof Float16Array) return "float16";
  return "float64";
}

/** Bytes per element. */
export function bytesPerElement(dtype: DType): number {
  return dtype === "float64" ? 8 : dtype === "float16" ? 2 : 4;
}

/** True for the floating-point dtypes. */
export function isFloat(dtype: DType): boolean {
  return dtype !== "int32";
}

/**
 * Turns a kernel's WGSL source written for f32 inputs into one that reads some of its
 * read-only buffers as f16 (mixed precision, ops/gemm_dtype.ts): `enable f16;` is prepended,
 * the named buffers are declared `array<f16>`, and every indexed read `name[...]` becomes
 * `f32(name[...])`, so the arithmetic, the accumulators and the output stay f32 exactly as in
 * the f32 kernel. The convolution kernels (conv_gemm.ts, conv_depthwise.ts) are written once
 * and get their f16 variants from here.
 *
 * Not here: vector (vec2/vec4) f16 loads, or f16 outputs.
 */

const FILE = "ops/backends/webgpu/f16_loads.ts";

/** `source` with the read-only buffers `names` read as f16 (see the file comment). */
export function withF16Inputs(source: string, names: readonly string[]): string {
  let out = source;
  for (const name of names) {
    const decl = new RegExp(`(var<storage, read> ${name}: array<)f32(>;)`);
    if (!decl.test(out)) throw new Error(`${FILE}: the shader has no read-only f32 buffer "${name}"`);
    out = wrapReads(out.replace(decl, "$1f16$2"), name);
  }
  return `enable f16;\n${out}`;
}

/** Wraps every `name[...]` (brackets matched) in `f32(...)`. */
function wrapReads(source: string, name: string): string {
  const pattern = new RegExp(`\\b${name}\\[`, "g");
  let result = "", last = 0;
  for (let m = pattern.exec(source); m; m = pattern.exec(source)) {
    let depth = 0, end = m.index + name.length;
    for (; end < source.length; end++) {
      if (source[end] === "[") depth++;
      else if (source[end] === "]" && --depth === 0) break;
    }
    if (depth !== 0) throw new Error(`${FILE}: unbalanced brackets after "${name}[" in the shader`);
    result += `${source.slice(last, m.index)}f32(${source.slice(m.index, end + 1)})`;
    last = end + 1;
    pattern.lastIndex = last;
  }
  return result + source.slice(last);
}

/**
 * WGSL source of workgroup tree reductions shared by the webgpu kernels that reduce inside one
 * workgroup (batch_norm.ts: per-channel sums; ctc_loss.ts: per-frame maxima and sums).
 *
 * `wgslWorkgroupReduce(size)` declares `wg_red` (size × vec2<f32> of workgroup memory) and
 * `wg_sum(v, lid)`, `wg_max(v, lid)` and their two-component forms `wg_sum2`, `wg_max2`:
 * every invocation passes its partial value and gets the workgroup's total back. Each call
 * holds barriers, so it must be reached by every invocation (uniform control flow); it ends
 * with a barrier, so calls may follow each other directly. The tree halves the active
 * invocations per level, so the rounding error grows with log2(size), not with the number of
 * partial values.
 *
 * The levels are unrolled when the source is generated, not looped: Mesa's llvmpipe ends a
 * shader invocation after 65535 loop iterations in total (its loop limiter, counted over all
 * loops), and kernels that loop over time call these once or more per frame.
 *
 * Not here: reductions across workgroups (reduce_sum.ts splits those over two dispatches).
 */

/** WGSL declarations of the workgroup reductions for a workgroup of `size` invocations (a power of two). */
export function wgslWorkgroupReduce(size: number): string {
  if (!(size >= 2) || !Number.isInteger(Math.log2(size))) {
    throw new RangeError(
      `ops/backends/webgpu/workgroup_reduce.ts: workgroup size ${size} is not a power of two`,
    );
  }
  const tree = (op: (a: string, b: string) => string): string => {
    const levels: string[] = [];
    for (let k = size / 2; k >= 1; k /= 2) {
      levels.push(`if (lid < ${k}u) { wg_red[lid] = ${op("wg_red[lid]", `wg_red[lid + ${k}u]`)}; }
  workgroupBarrier();`);
    }
    return `wg_red[lid] = v;
  workgroupBarrier();
  ${levels.join("\n  ")}
  let r = wg_red[0];
  workgroupBarrier();`;
  };
  return `var<workgroup> wg_red: array<vec2<f32>, ${size}>;
fn wg_sum2(v: vec2<f32>, lid: u32) -> vec2<f32> {
  ${tree((a, b) => `${a} + ${b}`)}
  return r;
}
fn wg_max2(v: vec2<f32>, lid: u32) -> vec2<f32> {
  ${tree((a, b) => `max(${a}, ${b})`)}
  return r;
}
fn wg_sum(v: f32, lid: u32) -> f32 { return wg_sum2(vec2<f32>(v, 0.0), lid).x; }
fn wg_max(v: f32, lid: u32) -> f32 { return wg_max2(vec2<f32>(v, v), lid).x; }`;
}

/**
 * Conformance cases of conv1d and conv2d (ops/conv1d.ts, ops/conv2d.ts) against a float64
 * reference written as the textbook sum over output position, channel and tap, with
 * finite-difference gradient checks of x, w and b (the harness). PyTorch fixture checks are
 * in tests/ops/conv_test.ts.
 */
import { conv1d, type Conv1dOptions } from "../../../ops/conv1d.ts";
import { conv2d, type Conv2dOptions } from "../../../ops/conv2d.ts";
import type { CaseInput, OpCase } from "../conformance/case.ts";
import { floatInput } from "../conformance/reference.ts";
import { blasInfo } from "../../../ops/backends/cpu/blas.ts";

// Load OpenBLAS now, outside any test: Deno's resource sanitizer would report the library
// opened by the first GEMM inside a case as a leak of that case.
blasInfo();

interface RefGeometry {
  stride: [number, number];
  /** [top, bottom, left, right] */
  pad: [number, number, number, number];
  dilation: [number, number];
  groups: number;
}

/** TensorFlow SAME split of one axis (PyTorch's "same" for stride 1). */
function refSame(len: number, k: number, s: number, d: number): [number, number] {
  const out = Math.ceil(len / s);
  const total = Math.max(0, (out - 1) * s + (k - 1) * d + 1 - len);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Direct 2-D cross-correlation, x [N, Cin, H, W], w [Cout, Cin/g, KH, KW]. */
function refConv2d(x: CaseInput, w: CaseInput, b: CaseInput | null, geo: RefGeometry): Float64Array {
  const [n, cin, h, wd] = x.shape;
  const [cout, cinG, kh, kw] = w.shape;
  const [sh, sw] = geo.stride;
  const [pt, pb, pl, pr] = geo.pad;
  const [dh, dw] = geo.dilation;
  const hOut = Math.floor((h + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
  const wOut = Math.floor((wd + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  const coutG = cout / geo.groups;
  const out = new Float64Array(n * cout * hOut * wOut);
  let o = 0;
  for (let ni = 0; ni < n; ni++) {
    for (let oc = 0; oc < cout; oc++) {
      const group = Math.floor(oc / coutG);
      for (let oh = 0; oh < hOut; oh++) {
        for (let ow = 0; ow < wOut; ow++) {
          let s = b ? b.data[oc] : 0;
          for (let c = 0; c < cinG; c++) {
            const ic = group * cinG + c;
            for (let i = 0; i < kh; i++) {
              const ih = oh * sh - pt + i * dh;
              if (ih < 0 || ih >= h) continue;
              for (let j = 0; j < kw; j++) {
                const iw = ow * sw - pl + j * dw;
                if (iw < 0 || iw >= wd) continue;
                s += x.data[((ni * cin + ic) * h + ih) * wd + iw] *
                  w.data[((oc * cinG + c) * kh + i) * kw + j];
              }
            }
          }
          out[o++] = s;
        }
      }
    }
  }
  return out;
}

function refConv1d(x: CaseInput, w: CaseInput, b: CaseInput | null, o: Conv1dOptions): Float64Array {
  const [n, cin, t] = x.shape;
  const [cout, cinG, k] = w.shape;
  const s = o.stride ?? 1, d = o.dilation ?? 1;
  const p = o.padding ?? 0;
  const [pl, pr] = p === "same"
    ? refSame(t, k, s, d)
    : p === "valid"
    ? [0, 0]
    : typeof p === "number"
    ? [p, p]
    : p;
  return refConv2d(
    { ...x, shape: [n, cin, 1, t] },
    { ...w, shape: [cout, cinG, 1, k] },
    b,
    { stride: [1, s], pad: [0, 0, pl, pr], dilation: [1, d], groups: o.groups ?? 1 },
  );
}

function conv1dCase(
  name: string,
  shapes: { x: number[]; w: number[]; bias: boolean },
  options: Conv1dOptions,
  seed: number,
): OpCase {
  return {
    name: `conv1d matches the reference for ${name}`,
    inputs: () => [
      floatInput(shapes.x, seed, { grad: true }),
      floatInput(shapes.w, seed + 1, { grad: true }),
      ...(shapes.bias ? [floatInput([shapes.w[0]], seed + 2, { grad: true })] : []),
    ],
    run: ([x, w, b]) => conv1d(x, w, b ?? null, options),
    expected: ([x, w, b]) => refConv1d(x, w, b ?? null, options),
  };
}

function conv2dCase(
  name: string,
  shapes: { x: number[]; w: number[]; bias: boolean },
  options: Conv2dOptions,
  seed: number,
): OpCase {
  const pair = (v: number | readonly [number, number]): [number, number] =>
    typeof v === "number" ? [v, v] : [v[0], v[1]];
  return {
    name: `conv2d matches the reference for ${name}`,
    inputs: () => [
      floatInput(shapes.x, seed, { grad: true }),
      floatInput(shapes.w, seed + 1, { grad: true }),
      ...(shapes.bias ? [floatInput([shapes.w[0]], seed + 2, { grad: true })] : []),
    ],
    run: ([x, w, b]) => conv2d(x, w, b ?? null, options),
    expected: ([x, w, b]) => {
      const stride = pair(options.stride ?? 1);
      const dilation = pair(options.dilation ?? 1);
      const p = options.padding ?? 0;
      const [h, wd] = [x.shape[2], x.shape[3]];
      const [kh, kw] = [w.shape[2], w.shape[3]];
      const [ph, pw] = p === "same"
        ? [refSame(h, kh, stride[0], dilation[0]), refSame(wd, kw, stride[1], dilation[1])]
        : p === "valid"
        ? [[0, 0], [0, 0]]
        : [[pair(p)[0], pair(p)[0]], [pair(p)[1], pair(p)[1]]];
      return refConv2d(x, w, b ?? null, {
        stride,
        pad: [ph[0], ph[1], pw[0], pw[1]],
        dilation,
        groups: options.groups ?? 1,
      });
    },
  };
}

/** The conv family's cases. */
export const cases: OpCase[] = [
  conv1dCase("padding 1 with bias", { x: [2, 3, 7], w: [4, 3, 3], bias: true }, { padding: 1 }, 7001),
  conv1dCase("stride 2 and groups 2 without bias", { x: [1, 4, 9], w: [2, 2, 3], bias: false }, {
    stride: 2,
    groups: 2,
  }, 7011),
  conv1dCase("dilation 2 and padding same", { x: [1, 2, 8], w: [3, 2, 3], bias: true }, {
    padding: "same",
    dilation: 2,
  }, 7021),
  conv1dCase("TensorFlow SAME with stride 2 and kernel 4", { x: [2, 2, 9], w: [2, 2, 4], bias: false }, {
    stride: 2,
    padding: "same",
  }, 7031),
  conv1dCase("depthwise with padding same", { x: [2, 3, 6], w: [3, 1, 5], bias: true }, {
    padding: "same",
    groups: 3,
  }, 7041),
  conv1dCase(
    "depthwise with multiplier 2, stride 2, dilation 2 and kernel 6",
    {
      x: [2, 2, 13],
      w: [4, 1, 6],
      bias: false,
    },
    { stride: 2, padding: "same", dilation: 2, groups: 2 },
    7045,
  ),
  conv1dCase("a 1x1 kernel", { x: [2, 3, 5], w: [2, 3, 1], bias: true }, {}, 7051),
  conv1dCase("a 1x1 kernel with padding 2 (wider than the kernel)", {
    x: [1, 2, 5],
    w: [3, 2, 1],
    bias: false,
  }, {
    padding: 2,
  }, 7055),
  conv1dCase("asymmetric padding [2, 0] and stride 3", { x: [1, 2, 10], w: [2, 2, 3], bias: false }, {
    stride: 3,
    padding: [2, 0],
  }, 7061),
  conv2dCase("padding 1 with bias", { x: [1, 2, 4, 5], w: [2, 2, 3, 3], bias: true }, { padding: 1 }, 7101),
  conv2dCase("stride [2, 2] and padding same", { x: [1, 1, 7, 8], w: [2, 1, 3, 5], bias: false }, {
    stride: [2, 2],
    padding: "same",
  }, 7111),
  conv2dCase("stride [1, 2] and padding [1, 2]", { x: [2, 2, 4, 6], w: [2, 2, 3, 3], bias: true }, {
    stride: [1, 2],
    padding: [1, 2],
  }, 7121),
  conv2dCase(
    "one input channel into 8 outputs with stride [2, 2] and padding same (GEMM path)",
    {
      x: [1, 1, 6, 7],
      w: [8, 1, 3, 4],
      bias: true,
    },
    { stride: [2, 2], padding: "same" },
    7141,
  ),
  conv2dCase(
    "a 2x2 kernel with padding [2, 3] (wider than the kernel)",
    {
      x: [1, 2, 3, 4],
      w: [2, 2, 2, 2],
      bias: true,
    },
    { padding: [2, 3] },
    7151,
  ),
  conv2dCase("depthwise 3x3 with padding 1", { x: [1, 2, 4, 4], w: [2, 1, 3, 3], bias: false }, {
    padding: 1,
    groups: 2,
  }, 7131),
];

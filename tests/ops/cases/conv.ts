/**
 * Conformance cases of conv1d and conv2d (ops/conv1d.ts, ops/conv2d.ts) against a float64
 * reference written as the textbook sum over output position, channel and tap, with
 * finite-difference gradient checks of x, w and b (the harness); cases at the shapes the
 * models use (Jasper, QuartzNet, DeepSpeech2, scaled down to stay fast on a CPU adapter); and
 * the PyTorch fixtures of tests/fixtures/ops/conv.json (make_conv.py): the output and the
 * backward ops' results for the fixture's output gradient r against PyTorch's gradients.
 */
import {
  conv1d,
  conv1dBackwardData,
  conv1dBackwardFilter,
  type Conv1dOptions,
  type ConvPadding,
} from "../../../ops/conv1d.ts";
import { conv2d, conv2dBackwardData, conv2dBackwardFilter, type Conv2dOptions } from "../../../ops/conv2d.ts";
import { sum } from "../../../ops/reduce_sum.ts";
import type { Tensor } from "../../../ops/tensor.ts";
import type { CaseInput, OpCase } from "../conformance/case.ts";
import { floatInput, floatValues } from "../conformance/reference.ts";
import { blasInfo } from "../../../ops/backends/cpu/blas.ts";

// Load OpenBLAS now, outside any test: Deno's resource sanitizer would report the library
// opened by the first GEMM inside a case as a leak of that case.
blasInfo();

/** Stride, padding, dilation and groups of refConv2d. */
export interface RefGeometry {
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
export function refConv2d(x: CaseInput, w: CaseInput, b: CaseInput | null, geo: RefGeometry): Float64Array {
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

/** refConv2d with H = KH = 1. */
export function refConv1d(x: CaseInput, w: CaseInput, b: CaseInput | null, o: Conv1dOptions): Float64Array {
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

/** One case of tests/fixtures/ops/conv.json: inputs, PyTorch's y, r and the gradients of sum(y · r). */
interface TorchConvFixture {
  name: string;
  op: "conv1d" | "conv2d";
  options: {
    stride: number | number[];
    padding: number | number[] | "same" | "valid";
    dilation: number | number[];
    groups: number;
  };
  x: { shape: number[]; data: number[] };
  w: { shape: number[]; data: number[] };
  b: { shape: number[]; data: number[] } | null;
  y: { shape: number[]; data: number[] };
  r: number[];
  dx: number[];
  dw: number[];
  db: number[] | null;
}

/**
 * A PyTorch fixture as a case: outputs y = conv(x, w, b), dx = backwardData(r, w),
 * dw = backwardFilter(x, r) and, with a bias, db = sum of r over all axes but the channel
 * (what the op's backward computes), all against PyTorch. No input is marked grad: the
 * gradients are outputs here, so they are compared on every backend; autograd itself is
 * checked against finite differences by the reference cases.
 */
function torchConvCase(f: TorchConvFixture): OpCase {
  const isConv1d = f.op === "conv1d";
  return {
    name: `PyTorch agrees: ${f.op} for ${f.name}, output and backward ops`,
    inputs: () => [
      floatValues(f.x.data, f.x.shape),
      floatValues(f.w.data, f.w.shape),
      ...(f.b ? [floatValues(f.b.data, f.b.shape)] : []),
      floatValues(f.r, f.y.shape),
    ],
    run: (inputs) => {
      const [x, w] = inputs;
      const b = f.b ? inputs[2] : null;
      const r = inputs[inputs.length - 1];
      let outs: Tensor[];
      if (isConv1d) {
        const options = f.options as Conv1dOptions & { padding: ConvPadding };
        outs = [
          conv1d(x, w, b, options),
          conv1dBackwardData(r, w, { ...options, inputLength: x.shape[2] }),
          conv1dBackwardFilter(x, r, { ...options, kernelSize: w.shape[2] }),
        ];
      } else {
        const options = f.options as Conv2dOptions;
        outs = [
          conv2d(x, w, b, options),
          conv2dBackwardData(r, w, { ...options, inputSize: [x.shape[2], x.shape[3]] }),
          conv2dBackwardFilter(x, r, { ...options, kernelSize: [w.shape[2], w.shape[3]] }),
        ];
      }
      return b ? [...outs, sum(r, isConv1d ? [0, 2] : [0, 2, 3])] : outs;
    },
    expected: () => [f.y.data, f.dx, f.dw, ...(f.db ? [f.db] : [])].map((v) => Float64Array.from(v)),
    tolerance: { float64: 1e-10, float32: 2e-5, webgpu: 1e-4 },
  };
}

const torchFixtures = (JSON.parse(
  Deno.readTextFileSync(new URL("../../fixtures/ops/conv.json", import.meta.url)),
) as { cases: TorchConvFixture[] }).cases;

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
  conv2dCase(
    "depthwise 3x3 with multiplier 2, stride [2, 1], dilation [2, 1] and padding same",
    {
      x: [2, 3, 9, 8],
      w: [6, 1, 3, 3],
      bias: true,
    },
    { stride: [2, 1], dilation: [2, 1], padding: "same", groups: 3 },
    7161,
  ),
  // The models' shapes, scaled down: Cout 72 spans two 64-row tiles of the GPU GEMM.
  conv1dCase(
    "Jasper's first layer: kernel 11, stride 2, padding same, 16 to 72 channels",
    {
      x: [2, 16, 37],
      w: [72, 16, 11],
      bias: true,
    },
    { stride: 2, padding: "same" },
    7201,
  ),
  conv1dCase(
    "a Jasper block's kernel 29 with dilation 2 and padding same",
    {
      x: [1, 16, 64],
      w: [20, 16, 29],
      bias: false,
    },
    { padding: "same", dilation: 2 },
    7211,
  ),
  conv1dCase(
    "QuartzNet's depthwise kernel 33 over 64 channels with padding same",
    {
      x: [2, 64, 40],
      w: [64, 1, 33],
      bias: true,
    },
    { padding: "same", groups: 64 },
    7221,
  ),
  conv1dCase(
    "QuartzNet's first depthwise kernel 33 over 256 channels with stride 2",
    {
      x: [1, 256, 30],
      w: [256, 1, 33],
      bias: false,
    },
    { stride: 2, padding: "same", groups: 256 },
    7231,
  ),
  conv1dCase(
    "groups 4 that are not depthwise: kernel 11, 32 to 48 channels",
    {
      x: [2, 32, 25],
      w: [48, 8, 11],
      bias: true,
    },
    { padding: "same", groups: 4 },
    7241,
  ),
  conv1dCase(
    "a 1x1 kernel from 96 channels to 29 outputs (Jasper's last layer)",
    {
      x: [2, 96, 20],
      w: [29, 96, 1],
      bias: true,
    },
    {},
    7251,
  ),
  conv2dCase(
    "DeepSpeech2's first layer: kernel [11, 15], stride [2, 2], padding same",
    {
      x: [2, 1, 20, 33],
      w: [8, 1, 11, 15],
      bias: true,
    },
    { stride: [2, 2], padding: "same" },
    7261,
  ),
  conv2dCase(
    "DeepSpeech2's second layer: kernel [11, 7], stride [1, 2], padding same",
    {
      x: [1, 8, 10, 17],
      w: [8, 8, 11, 7],
      bias: false,
    },
    { stride: [1, 2], padding: "same" },
    7271,
  ),
  ...torchFixtures.map(torchConvCase),
];

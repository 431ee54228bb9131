/**
 * Conformance cases of the layout ops: reshape, permute/transpose, slice/narrow, concat, pad,
 * gather.
 * References map each output multi-index to the input element it must hold.
 */
import { concat } from "../../../ops/concat.ts";
import { gather } from "../../../ops/gather.ts";
import { pad } from "../../../ops/pad.ts";
import { permute, transpose } from "../../../ops/permute.ts";
import { reshape } from "../../../ops/reshape.ts";
import { narrow, slice, type SliceRange } from "../../../ops/slice.ts";
import { mul } from "../../../ops/elementwise.ts";
import type { CaseInput, OpCase } from "../conformance/case.ts";
import { floatInput, intInput, ravel, refSize, torchCase, unravel } from "../conformance/reference.ts";

function refPermute(x: CaseInput, perm: number[]): Float64Array {
  const outShape = perm.map((a) => x.shape[a]);
  const out = new Float64Array(x.data.length);
  for (let f = 0; f < out.length; f++) {
    const o = unravel(f, outShape);
    const i = new Array<number>(perm.length);
    perm.forEach((a, k) => (i[a] = o[k]));
    out[f] = x.data[ravel(i, x.shape)];
  }
  return out;
}

/** Python slicing semantics written out independently of ops/slice.ts. */
function refSlice(x: CaseInput, ranges: (SliceRange | null)[]): Float64Array {
  const picks = x.shape.map((n, d) => {
    const r = ranges[d] ?? {};
    const norm = (v: number): number => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
    const list: number[] = [];
    for (let k = norm(r.start ?? 0); k < norm(r.end ?? n); k += r.step ?? 1) list.push(k);
    return list;
  });
  const outShape = picks.map((p) => p.length);
  const out = new Float64Array(refSize(outShape));
  for (let f = 0; f < out.length; f++) {
    const o = unravel(f, outShape);
    out[f] = x.data[ravel(o.map((k, d) => picks[d][k]), x.shape)];
  }
  return out;
}

function refConcat(xs: CaseInput[], axis: number): Float64Array {
  const outShape = [...xs[0].shape];
  outShape[axis] = xs.reduce((n, x) => n + x.shape[axis], 0);
  const out = new Float64Array(refSize(outShape));
  for (let f = 0; f < out.length; f++) {
    const o = unravel(f, outShape);
    let k = o[axis], j = 0;
    while (k >= xs[j].shape[axis]) k -= xs[j++].shape[axis];
    const i = [...o];
    i[axis] = k;
    out[f] = xs[j].data[ravel(i, xs[j].shape)];
  }
  return out;
}

/** F.pad semantics: `pads` pairs from the last axis backwards; negative amounts crop. */
function refPad(x: CaseInput, pads: number[], value: number): Float64Array {
  const rank = x.shape.length;
  const before = x.shape.map((_, d) => pads[2 * (rank - 1 - d)] ?? 0);
  const after = x.shape.map((_, d) => pads[2 * (rank - 1 - d) + 1] ?? 0);
  const outShape = x.shape.map((n, d) => n + before[d] + after[d]);
  const out = new Float64Array(refSize(outShape));
  for (let f = 0; f < out.length; f++) {
    const i = unravel(f, outShape).map((k, d) => k - before[d]);
    out[f] = i.every((k, d) => k >= 0 && k < x.shape[d]) ? x.data[ravel(i, x.shape)] : value;
  }
  return out;
}

function refGather(x: CaseInput, axis: number, index: CaseInput): Float64Array {
  const out = new Float64Array(index.data.length);
  for (let f = 0; f < out.length; f++) {
    const i = unravel(f, index.shape);
    i[axis] = index.data[f];
    out[f] = x.data[ravel(i, x.shape)];
  }
  return out;
}

const reshapeCases: OpCase[] = [
  {
    name: "reshape keeps row-major order and infers a -1 extent",
    inputs: () => [floatInput([2, 3, 4], 4501, { grad: true })],
    run: ([x]) => reshape(x, [4, -1]),
    expected: ([x]) => Float64Array.from(x.data),
  },
  {
    name: "reshape of a computed tensor passes gradients back through the shared buffer",
    inputs: () => [floatInput([6], 4502, { grad: true })],
    run: ([x]) => mul(reshape(mul(x, 2), [2, 3]), reshape(x, [2, 3])),
    expected: ([x]) => Float64Array.from(x.data, (v) => 2 * v * v),
  },
];

const permuteCases: OpCase[] = [
  {
    name: "permute moves axes [2, 0, 1] of a [2, 3, 4] tensor",
    inputs: () => [floatInput([2, 3, 4], 4001, { grad: true })],
    run: ([x]) => permute(x, [2, 0, 1]),
    expected: ([x]) => refPermute(x, [2, 0, 1]),
  },
  {
    name: "permute accepts negative axes and reverses a rank-4 tensor",
    inputs: () => [floatInput([2, 1, 3, 2], 4002, { grad: true })],
    run: ([x]) => permute(x, [-1, 2, -3, 0]),
    expected: ([x]) => refPermute(x, [3, 2, 1, 0]),
  },
  {
    name: "transpose swaps the last two axes by default",
    inputs: () => [floatInput([2, 3, 4], 4003, { grad: true })],
    run: ([x]) => transpose(x),
    expected: ([x]) => refPermute(x, [0, 2, 1]),
  },
  {
    name: "transpose swaps the outer axes of [T, N, V]",
    inputs: () => [floatInput([3, 2, 5], 4004, { grad: true })],
    run: ([x]) => transpose(x, 0, 1),
    expected: ([x]) => refPermute(x, [1, 0, 2]),
  },
  {
    name: "permute of [1, 40, 33] to [1, 33, 40] copies in tiles both ways and matches the reference",
    inputs: () => [floatInput([1, 40, 33], 4005, { grad: true })],
    run: ([x]) => permute(x, [0, 2, 1]),
    expected: ([x]) => refPermute(x, [0, 2, 1]),
  },
  {
    name: "permute [2, 0, 1] of [33, 3, 34] moves the contiguous axis to the front in tiles",
    inputs: () => [floatInput([33, 3, 34], 4006)],
    run: ([x]) => permute(x, [2, 0, 1]),
    expected: ([x]) => refPermute(x, [2, 0, 1]),
  },
  {
    name: "permute moves int32 values unchanged",
    inputs: () => [intInput([1, 2, 3, 4, 5, 6], [2, 3])],
    run: ([x]) => permute(x, [1, 0]),
    expected: ([x]) => refPermute(x, [1, 0]),
  },
];

const sliceRanges: [string, number[], (SliceRange | null)[]][] = [
  ["rows 1 to 4 and every other column", [5, 6], [{ start: 1, end: 4 }, { step: 2 }]],
  ["negative start and end", [5, 6], [{ start: -3 }, { start: 1, end: -1 }]],
  ["a step of 3 with an end beyond the extent", [7, 2], [{ start: 1, end: 100, step: 3 }]],
  ["the middle axis of a rank-3 tensor", [2, 5, 3], [null, { start: 2, end: 4 }]],
  ["an empty range", [4, 3], [{ start: 3, end: 1 }]],
];

const sliceCases: OpCase[] = [
  ...sliceRanges.map(([desc, shape, ranges], n): OpCase => ({
    name: `slice takes ${desc}`,
    inputs: () => [floatInput(shape, 4101 + n, { grad: true })],
    run: ([x]) => slice(x, ranges),
    expected: ([x]) => refSlice(x, ranges),
  })),
  {
    name: "narrow takes 3 frames from 1 along the last axis",
    inputs: () => [floatInput([2, 2, 6], 4110, { grad: true })],
    run: ([x]) => narrow(x, -1, 1, 3),
    expected: ([x]) => refSlice(x, [null, null, { start: 1, end: 4 }]),
  },
  {
    name: "two overlapping slices of one tensor accumulate their gradients",
    inputs: () => [floatInput([6], 4111, { grad: true })],
    run: ([x]) => [slice(x, [{ end: 4 }]), slice(x, [{ start: 2, step: 2 }])],
    expected: ([x]) => [refSlice(x, [{ end: 4 }]), refSlice(x, [{ start: 2, step: 2 }])],
  },
];

const concatCases: OpCase[] = [
  {
    name: "concat joins three tensors along axis 0",
    inputs: () => [
      floatInput([1, 3], 4201, { grad: true }),
      floatInput([2, 3], 4202, { grad: true }),
      floatInput([3, 3], 4203, { grad: true }),
    ],
    run: (xs) => concat(xs, 0),
    expected: (xs) => refConcat(xs, 0),
  },
  {
    name: "concat joins [T, N, H] halves along the last axis",
    inputs: () => [floatInput([3, 2, 2], 4204, { grad: true }), floatInput([3, 2, 3], 4205, { grad: true })],
    run: (xs) => concat(xs, -1),
    expected: (xs) => refConcat(xs, 2),
  },
  {
    name: "concat along the middle axis skips an empty input",
    inputs: () => [
      floatInput([2, 2, 3], 4206, { grad: true }),
      floatInput([2, 0, 3], 4207),
      floatInput([2, 1, 3], 4208, { grad: true }),
    ],
    run: (xs) => concat(xs, 1),
    expected: (xs) => refConcat(xs, 1),
  },
];

const padSpecs: [string, number[], number[], number][] = [
  ["pads the end of the time axis with zeros", [2, 3, 4], [0, 3], 0],
  ["pads both sides of the last two axes with a value", [2, 3, 4], [2, 1, 1, 2], -1.5],
  ["crops with negative amounts like F.pad", [3, 6], [-1, 2, 1, -2], 0],
  ["pads a 1-d tensor on both sides", [5], [2, 2], 7],
];

const padCases: OpCase[] = padSpecs.map(([desc, shape, pads, value], n): OpCase => ({
  name: `pad ${desc}`,
  inputs: () => [floatInput(shape, 4301 + n, { grad: true })],
  run: ([x]) => pad(x, pads, { value }),
  expected: ([x]) => refPad(x, pads, value),
}));

const gatherCases: OpCase[] = [
  {
    name: "gather along axis 1 picks one label per row, as CTC targets do",
    inputs: () => [floatInput([4, 5], 4401, { grad: true }), intInput([2, 0, 4, 4], [4, 1])],
    run: ([x, i]) => gather(x, 1, i),
    expected: ([x, i]) => refGather(x, 1, i),
  },
  {
    name: "gather along axis 0 with repeated indices accumulates their gradients",
    inputs: () => [floatInput([3, 4], 4402, { grad: true }), intInput([0, 2, 2, 1, 2, 2, 0, 0], [2, 4])],
    run: ([x, i]) => gather(x, 0, i),
    expected: ([x, i]) => refGather(x, 0, i),
  },
  {
    name: "gather with an index smaller than the input outside the axis reads the leading block",
    inputs: () => [floatInput([2, 3, 4], 4403, { grad: true }), intInput([3, 0, 1, 1, 2, 0], [1, 2, 3])],
    run: ([x, i]) => gather(x, 2, i),
    expected: ([x, i]) => refGather(x, 2, i),
  },
];

const torchCases: OpCase[] = [
  torchCase("general.json", "permute (2, 0, 1)", { run: ([x]) => permute(x, [2, 0, 1]) }),
  torchCase(
    "general.json",
    "slice [1:, ::2, -3:-1]",
    { run: ([x]) => slice(x, [{ start: 1 }, { step: 2 }, { start: -3, end: -1 }]) },
  ),
  torchCase("general.json", "cat along axis 1", { run: ([a, b]) => concat([a, b], 1) }),
  torchCase(
    "general.json",
    "F.pad with value and a negative amount",
    { run: ([x]) => pad(x, [1, -1, 2, 0], { value: 0.25 }) },
  ),
  torchCase("general.json", "gather along axis 1 with repeated indices", {
    run: ([x, i]) => gather(x, 1, i),
  }),
];

// Extents beyond a GPU workgroup, none a power of two.
const largeCases: OpCase[] = [
  {
    name: "permute [2, 0, 1] of a [70, 5, 66] tensor matches the reference",
    inputs: () => [floatInput([70, 5, 66], 4601, { grad: true })],
    run: ([x]) => permute(x, [2, 0, 1]),
    expected: ([x]) => refPermute(x, [2, 0, 1]),
  },
  {
    name: "concat, pad and slice of [6, 300] tensors match the reference",
    inputs: () => [floatInput([6, 300], 4602, { grad: true }), floatInput([6, 257], 4603, { grad: true })],
    run: (
      [a, b],
    ) => [concat([a, b], 1), pad(b, [3, 5, 0, 2]), slice(a, [{ start: 1, step: 3 }, { start: 7, step: 2 }])],
    expected: ([a, b]) => [
      refConcat([a, b], 1),
      refPad(b, [3, 5, 0, 2], 0),
      refSlice(a, [{ start: 1, step: 3 }, { start: 7, step: 2 }]),
    ],
  },
];

// Three or more inputs along each axis of a rank-3 tensor, with extents that differ per input.
const concatEachAxisCases: OpCase[] = [0, 1, 2].map((axis): OpCase => {
  const shapes = [2, 1, 3, 4].map((n) => [2, 3, 4].map((e, d) => (d === axis ? n : e)));
  return {
    name: `concat joins four tensors along axis ${axis} of a rank-3 tensor`,
    inputs: () => shapes.map((shape, k) => floatInput(shape, 4701 + 10 * axis + k, { grad: true })),
    run: (xs) => concat(xs, axis),
    expected: (xs) => refConcat(xs, axis),
  };
});

const padEdgeSpecs: [string, number[], number[], number][] = [
  ["with all amounts zero is a copy", [3, 4], [0, 0, 0, 0], 5],
  ["crops both ends of the last axis and pads the one before it", [2, 3, 6], [-2, -1, 1, 2], 0.5],
  ["crops an axis down to nothing", [2, 3], [-1, -2], 0],
];

const padEdgeCases: OpCase[] = padEdgeSpecs.map(([desc, shape, pads, value], n): OpCase => ({
  name: `pad ${desc}`,
  inputs: () => [floatInput(shape, 4711 + n, { grad: true })],
  run: ([x]) => pad(x, pads, { value }),
  expected: ([x]) => refPad(x, pads, value),
}));

/** `count` int32 indices in [0, n) from a seed, with repeats. */
function seededIndices(count: number, n: number, seed: number): number[] {
  const u = floatInput([count], seed, { low: 0, high: n }).data;
  return Array.from(u, (v) => Math.min(n - 1, Math.floor(v)));
}

const gatherMoreCases: OpCase[] = [
  {
    name: "gather along the last axis with repeated indices accumulates their gradients",
    inputs:
      () => [floatInput([2, 3, 5], 4721, { grad: true }), intInput(seededIndices(24, 5, 4722), [2, 3, 4])],
    run: ([x, i]) => gather(x, 2, i),
    expected: ([x, i]) => refGather(x, 2, i),
  },
  {
    name: "gather along the middle axis reads a smaller index block with repeats",
    inputs:
      () => [floatInput([3, 4, 5], 4723, { grad: true }), intInput(seededIndices(24, 4, 4724), [2, 4, 3])],
    run: ([x, i]) => gather(x, 1, i),
    expected: ([x, i]) => refGather(x, 1, i),
  },
  {
    name: "gather of 6 labels per row from [300, 29] log-probabilities matches the reference",
    inputs: () => [
      floatInput([300, 29], 4725, { grad: true }),
      intInput(seededIndices(1800, 29, 4726), [300, 6]),
    ],
    run: ([x, i]) => gather(x, 1, i),
    expected: ([x, i]) => refGather(x, 1, i),
  },
  {
    name: "gather moves int32 values unchanged",
    inputs: () => [intInput([5, -6, 7, 8, 9, -10], [2, 3]), intInput([2, 2, 0, 1], [2, 2])],
    run: ([x, i]) => gather(x, 1, i),
    expected: ([x, i]) => refGather(x, 1, i),
  },
];

const sliceMoreCases: OpCase[] = [
  {
    name: "slice with steps on every axis of a rank-4 tensor matches the reference",
    inputs: () => [floatInput([5, 4, 6, 7], 4731, { grad: true })],
    run: ([x]) =>
      slice(x, [{ start: 1, step: 2 }, { step: 3 }, { start: -5, end: -1, step: 2 }, { start: 2 }]),
    expected: ([x]) =>
      refSlice(x, [{ start: 1, step: 2 }, { step: 3 }, { start: -5, end: -1, step: 2 }, { start: 2 }]),
  },
  {
    name: "permute of a rank-5 tensor matches the reference",
    inputs: () => [floatInput([2, 3, 1, 4, 5], 4732, { grad: true })],
    run: ([x]) => permute(x, [3, 0, 4, 2, 1]),
    expected: ([x]) => refPermute(x, [3, 0, 4, 2, 1]),
  },
];

/** The layout family's cases. */
export const cases: OpCase[] = [
  ...reshapeCases,
  ...permuteCases,
  ...sliceCases,
  ...concatCases,
  ...padCases,
  ...gatherCases,
  ...torchCases,
  ...largeCases,
  ...concatEachAxisCases,
  ...padEdgeCases,
  ...gatherMoreCases,
  ...sliceMoreCases,
];

/**
 * Conformance cases of dropout (ops/dropout.ts). The reference replays the documented draw
 * with its own Philox4x32-10 in BigInt arithmetic (sharing no code with ops/philox.ts): four
 * words from an Rng of the same seed give the key and counter words 2 and 3, element i takes
 * word i % 4 of block i / 4 and is dropped when its top 24 bits over 2^24 are below p. Every
 * backend must drop exactly these elements; the gradient goes through the same mask.
 */
import { dropout } from "../../../ops/dropout.ts";
import { Rng } from "../../../ops/random.ts";
import type { CaseInput, OpCase } from "../conformance/case.ts";
import { floatInput } from "../conformance/reference.ts";

const MASK32 = 0xffffffffn;

/** Philox4x32-10 (Salmon et al. 2011) with 64-bit BigInt products. */
function refPhilox(counter: bigint[], key: bigint[]): bigint[] {
  let [c0, c1, c2, c3] = counter;
  let [k0, k1] = key;
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      k0 = (k0 + 0x9e3779b9n) & MASK32;
      k1 = (k1 + 0xbb67ae85n) & MASK32;
    }
    const p0 = 0xd2511f53n * c0, p1 = 0xcd9e8d57n * c2;
    [c0, c1, c2, c3] = [(p1 >> 32n) ^ c1 ^ k0, p1 & MASK32, (p0 >> 32n) ^ c3 ^ k1, p0 & MASK32];
  }
  return [c0, c1, c2, c3];
}

function refDropout(x: CaseInput, p: number, seed: number): Float64Array {
  return refDropoutFrom(x, p, new Rng(seed));
}

function refDropoutFrom(x: CaseInput, p: number, rng: Rng): Float64Array {
  const [k0, k1, c2, c3] = [0, 1, 2, 3].map(() => BigInt(rng.nextUint32()));
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    const word = Number(refPhilox([BigInt(i >> 2), 0n, c2, c3], [k0, k1])[i & 3]);
    out[i] = Math.floor(word / 256) / 2 ** 24 < p ? 0 : x.data[i] / (1 - p);
  }
  return out;
}

/** The dropout family's cases. */
export const cases: OpCase[] = [
  ...[0.1, 0.5, 0.9].map((p, k): OpCase => ({
    name: `dropout with p ${p} drops the seeded elements and scales the rest by 1/(1-p)`,
    inputs: () => [floatInput([4, 6], 6001 + k, { grad: true })],
    run: ([x]) => dropout(x, p, { rng: new Rng(42 + k) }),
    expected: ([x]) => refDropout(x, p, 42 + k),
  })),
  {
    name: "dropout of a [3, 7, 5] tensor (not a multiple of four) drops the seeded elements",
    inputs: () => [floatInput([3, 7, 5], 6004, { grad: true })],
    run: ([x]) => dropout(x, 0.3, { rng: new Rng(77) }),
    expected: ([x]) => refDropout(x, 0.3, 77),
  },
  {
    name: "dropout of a [70, 33] tensor spans several workgroups and drops the seeded elements",
    inputs: () => [floatInput([70, 33], 6006, { grad: true })],
    run: ([x]) => dropout(x, 0.2, { rng: new Rng(1234) }),
    expected: ([x]) => refDropout(x, 0.2, 1234),
  },
  {
    name: "dropout twice from one rng draws two different masks",
    inputs: () => [floatInput([2, 9], 6005, { grad: true })],
    run: ([x]) => {
      const rng = new Rng(5);
      return [dropout(x, 0.5, { rng }), dropout(x, 0.5, { rng })];
    },
    expected: ([x]) => {
      const rng = new Rng(5);
      const first = refDropout(x, 0.5, 5);
      for (let k = 0; k < 4; k++) rng.nextUint32();
      // The second call continues the stream: its seed state is four words further on.
      return [first, refDropoutFrom(x, 0.5, rng)];
    },
  },
  {
    name: "dropout in evaluation mode returns its input unchanged",
    inputs: () => [floatInput([3, 3], 6010, { grad: true })],
    run: ([x]) => dropout(x, 0.5, { training: false }),
    expected: ([x]) => Float64Array.from(x.data),
  },
  {
    name: "dropout with p 1 zeroes everything",
    inputs: () => [floatInput([2, 3], 6011, { grad: true })],
    run: ([x]) => dropout(x, 1, { rng: new Rng(1) }),
    expected: () => new Float64Array(6),
  },
];

import assert from "node:assert/strict";
import {
  filterByDuration,
  padBatch,
  planEpoch,
  type UtteranceFeatures,
} from "../../../data/pipeline/batches.ts";
import { Rng } from "../../../data/pipeline/rng.ts";

function durations(n: number, seed: number): number[] {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => r.range(0.5, 15));
}

Deno.test("planEpoch() covers every utterance exactly once in batches of batchSize", () => {
  const d = durations(103, 1);
  const plan = planEpoch(d, new Rng(2), { batchSize: 8, nBuckets: 4 });
  const seen = plan.flat().sort((a, b) => a - b);
  assert.deepEqual(seen, [...Array(103).keys()]);
  assert.ok(plan.every((b) => b.length <= 8 && b.length > 0));
  assert.equal(plan.filter((b) => b.length < 8).length <= 4, true);
  const dropped = planEpoch(d, new Rng(2), { batchSize: 8, nBuckets: 4, dropLast: true });
  assert.ok(dropped.every((b) => b.length === 8));
});

Deno.test("duration bucketing puts similar lengths together and cuts padding", () => {
  const d = durations(400, 3);
  const padding = (plan: number[][]): number => {
    let p = 0;
    for (const b of plan) {
      const m = Math.max(...b.map((i) => d[i]));
      for (const i of b) p += m - d[i];
    }
    return p;
  };
  const bucketed = planEpoch(d, new Rng(4), { batchSize: 10, nBuckets: 8 });
  const flat = planEpoch(d, new Rng(4), { batchSize: 10, nBuckets: 1 });
  assert.ok(padding(bucketed) < padding(flat) / 3, `${padding(bucketed)} vs ${padding(flat)}`);
  // Every batch lies inside one bucket: its duration range spans at most one eighth of the sorted order.
  const rank = new Map([...d.keys()].sort((a, b) => d[a] - d[b]).map((i, r) => [i, r]));
  for (const b of bucketed) {
    const bucketsOf = new Set(b.map((i) => Math.floor((rank.get(i)! * 8) / 400)));
    assert.equal(bucketsOf.size, 1);
  }
});

Deno.test("planEpoch() shuffling is seeded, and shuffle: false keeps manifest order", () => {
  const d = durations(50, 5);
  assert.deepEqual(planEpoch(d, new Rng(9), { batchSize: 4 }), planEpoch(d, new Rng(9), { batchSize: 4 }));
  assert.notDeepEqual(
    planEpoch(d, new Rng(9), { batchSize: 4 }),
    planEpoch(d, new Rng(10), { batchSize: 4 }),
  );
  const ordered = planEpoch(d, new Rng(9), { batchSize: 4, shuffle: false });
  assert.deepEqual(ordered.flat(), [...Array(50).keys()]);
  const byLength = planEpoch(d, new Rng(9), { batchSize: 4, nBuckets: 5, shuffle: false }).flat();
  for (let i = 1; i < byLength.length; i++) assert.ok(d[byLength[i - 1]] <= d[byLength[i]]);
});

Deno.test("filterByDuration() drops utterances over the maximum and under the minimum", () => {
  const { kept, dropped } = filterByDuration([1, 20, 3, 16.7, 0.05], {
    maxDurationS: 16.7,
    minDurationS: 0.1,
  });
  assert.deepEqual(kept, [0, 2, 3]);
  assert.deepEqual(dropped, [1, 4]);
});

Deno.test("padBatch() pads to a multiple of padTo, keeps lengths and concatenates targets", () => {
  const utt = (nFrames: number, v: number, targets: number[]): UtteranceFeatures => {
    const F = 3;
    const features = new Float32Array(F * nFrames);
    for (let f = 0; f < F; f++) for (let t = 0; t < nFrames; t++) features[f * nFrames + t] = v + f * 100 + t;
    return {
      features,
      nFeatures: F,
      nFrames,
      targets: Int32Array.from(targets),
      transcript: `u${v}`,
      path: `/a/${v}`,
    };
  };
  const items = [utt(5, 1000, [1, 2]), utt(11, 2000, [3]), utt(1, 3000, [4, 5, 6])];
  const b = padBatch(items, { padTo: 8 });
  assert.equal(b.maxFrames, 16);
  assert.equal(b.nFeatures, 3);
  assert.deepEqual([...b.featureLengths], [5, 11, 1]);
  assert.deepEqual([...b.targets], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...b.targetLengths], [2, 1, 3]);
  assert.deepEqual(b.transcripts, ["u1000", "u2000", "u3000"]);
  assert.equal(b.features.length, 3 * 3 * 16);
  for (let i = 0; i < 3; i++) {
    for (let f = 0; f < 3; f++) {
      for (let t = 0; t < 16; t++) {
        const want = t < items[i].nFrames ? items[i].features[f * items[i].nFrames + t] : 0;
        assert.equal(b.features[(i * 3 + f) * 16 + t], want);
      }
    }
  }
  assert.equal(padBatch([utt(16, 0, [])], { padTo: 8 }).maxFrames, 16);
  assert.throws(() => padBatch([utt(2, 0, []), { ...utt(2, 0, []), nFeatures: 4 }]), /has 4 features/);
});

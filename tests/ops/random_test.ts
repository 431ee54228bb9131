import assert from "node:assert/strict";
import { Rng } from "../../ops/random.ts";

Deno.test("Rng produces xoshiro128** outputs for a known state", () => {
  const r = new Rng(0);
  r.setState([1, 2, 3, 4]);
  // First output of xoshiro128** from state {1,2,3,4}: rotl(2 * 5, 7) * 9 = 11520.
  assert.equal(r.nextUint32(), 11520);
  assert.equal(r.nextUint32(), 0);
});

Deno.test("Rng with the same seed repeats and with another seed differs", () => {
  const a = new Rng(7), b = new Rng(7), c = new Rng(8);
  const xa = Array.from({ length: 16 }, () => a.uniform());
  const xb = Array.from({ length: 16 }, () => b.uniform());
  const xc = Array.from({ length: 16 }, () => c.uniform());
  assert.deepEqual(xa, xb);
  assert.notDeepEqual(xa, xc);
});

Deno.test("Rng state saved and restored resumes the same stream", () => {
  const r = new Rng(123);
  for (let i = 0; i < 10; i++) r.normal();
  const saved = JSON.parse(JSON.stringify(r.state()));
  const next = [r.uniform(), r.int(10), r.normal()];
  const s = new Rng(999);
  s.setState(saved);
  assert.deepEqual([s.uniform(), s.int(10), s.normal()], next);
});

Deno.test("Rng uniform, int and normal have the expected moments", () => {
  const r = new Rng(1);
  const n = 100000;
  let su = 0, sn = 0, sn2 = 0;
  const counts = new Array(7).fill(0);
  for (let i = 0; i < n; i++) {
    const u = r.uniform();
    assert.ok(u >= 0 && u < 1);
    su += u;
    const z = r.normal();
    sn += z;
    sn2 += z * z;
    counts[r.int(7)]++;
  }
  assert.ok(Math.abs(su / n - 0.5) < 0.01);
  assert.ok(Math.abs(sn / n) < 0.02);
  assert.ok(Math.abs(sn2 / n - 1) < 0.02);
  for (const c of counts) assert.ok(Math.abs(c / n - 1 / 7) < 0.01);
});

Deno.test("Rng shuffle is a seeded permutation", () => {
  const a = new Rng(5).shuffle([...Array(50).keys()]);
  const b = new Rng(5).shuffle([...Array(50).keys()]);
  assert.deepEqual(a, b);
  assert.deepEqual([...a].sort((x, y) => x - y), [...Array(50).keys()]);
  assert.notDeepEqual(a, [...Array(50).keys()]);
});

Deno.test("Rng randint includes both ends and rejects bad ranges", () => {
  const r = new Rng(3);
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) seen.add(r.randint(-2, 2));
  assert.deepEqual([...seen].sort(), [-1, -2, 0, 1, 2].sort());
  assert.throws(() => r.randint(3, 2), /hi < lo/);
  assert.throws(() => r.setState([0, 0, 0, 0]), /all-zero/);
});

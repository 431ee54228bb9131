import assert from "node:assert/strict";
import "../../ops/backends/cpu/mod.ts";
import { getBackend } from "../../ops/backend_registry.ts";
import { TensorScope } from "../../ops/scopes.ts";
import { tensor } from "../../ops/creation.ts";
import { gather } from "../../ops/gather.ts";

Deno.test("gather picks torch.gather's elements along axis 1", () => {
  using _scope = new TensorScope();
  // torch.gather(torch.tensor([[1,2],[3,4]]), 1, torch.tensor([[0,0],[1,0]])) == [[1,1],[4,3]]
  const y = gather(tensor([1, 2, 3, 4], [2, 2]), 1, tensor(Int32Array.from([0, 0, 1, 0]), [2, 2]));
  assert.deepEqual([...y.dataSync()], [1, 1, 4, 3]);
});

Deno.test("gather rejects an index outside the axis without leaking memory", () => {
  const cpu = getBackend("cpu");
  using _scope = new TensorScope();
  const x = tensor([1, 2, 3], [3]);
  const bad = tensor(Int32Array.from([0, 3]), [2]);
  const neg = tensor(Int32Array.from([-1]), [1]);
  const before = cpu.bytesInUse();
  assert.throws(() => gather(x, 0, bad), /index 3 at position 1 is outside \[0, 3\) on axis 0/);
  assert.throws(() => gather(x, 0, neg), /index -1 at position 0/);
  assert.equal(cpu.bytesInUse(), before);
});

Deno.test("gather requires an int32 index of the same rank and no larger extents", () => {
  using _scope = new TensorScope();
  const x = tensor(new Float32Array(6), [2, 3]);
  assert.throws(() => gather(x, 1, tensor([0, 1], [2, 1])), /index must be int32, got float32/);
  assert.throws(() => gather(x, 1, tensor(Int32Array.from([0, 1]), [2])), /does not fit \[2,3\]/);
  assert.throws(() => gather(x, 1, tensor(Int32Array.from([0, 0, 0]), [3, 1])), /does not fit/);
  // Larger along the gathered axis is fine: it only sets the output's extent.
  assert.deepEqual(gather(x, 1, tensor(new Int32Array(10), [2, 5])).shape, [2, 5]);
});

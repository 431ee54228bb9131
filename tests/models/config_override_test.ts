import assert from "node:assert/strict";
import { configs, overrideConfig } from "../../models/configs/mod.ts";

const small = configs["small"];

Deno.test("a dotted override sets a number and leaves the original config alone", () => {
  const c = overrideConfig(small, "training.maxSteps", "7");
  assert.deepEqual(c.training.maxSteps, 7);
  assert.notEqual(small.training.maxSteps, 7);
});

Deno.test("a list field takes a bare path, or a comma-separated list of them", () => {
  assert.deepEqual(overrideConfig(small, "data.eval", "a/b.csv").data.eval, ["a/b.csv"]);
  assert.deepEqual(overrideConfig(small, "data.eval", "a.csv,b.csv").data.eval, ["a.csv", "b.csv"]);
  assert.deepEqual(overrideConfig(small, "data.eval", '["x.csv"]').data.eval, ["x.csv"]);
});

Deno.test("an override of the wrong kind or an unknown key names the flag", () => {
  assert.throws(() => overrideConfig(small, "training.maxSteps", "many"), {
    message: /--training\.maxSteps=many/,
  });
  assert.throws(() => overrideConfig(small, "training.maxStep", "1"), { message: /unknown key "maxStep"/ });
  assert.throws(() => overrideConfig(small, "nosuch.key", "1"), { message: /"nosuch" is not a section/ });
});

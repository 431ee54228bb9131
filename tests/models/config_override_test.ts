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

Deno.test("optional fields a config leaves out can still be set: a beam decoder with an LM", () => {
  let c = overrideConfig(small, "decoder.kind", "beam");
  c = overrideConfig(c, "decoder.lm", "work/lm.bin");
  c = overrideConfig(c, "decoder.alpha", "0.5");
  c = overrideConfig(c, "optimizer.clipNorm", "100");
  assert.deepEqual(c.decoder, { kind: "beam", lm: "work/lm.bin", alpha: 0.5 });
  assert.equal(c.optimizer.clipNorm, 100);
  assert.throws(() => overrideConfig(small, "decoder.lmPath", "x"), { message: /unknown key "lmPath"/ });
});

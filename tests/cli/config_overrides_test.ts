import assert from "node:assert/strict";
import { UsageError } from "../../cli/args.ts";
import { applyConfigOverrides } from "../../cli/config_overrides.ts";
import { configs } from "../../models/configs/mod.ts";
import { validateConfig } from "../../models/configs/validate.ts";

const small = configs["small"];
const o = (key: string, value: string) => ({ key, value });

Deno.test("applyConfigOverrides() refuses values outside the config's ranges and choices, naming the flag", () => {
  const cases: [string, string, RegExp][] = [
    [
      "training.maxSteps",
      "-5",
      /^--training\.maxSteps=-5: training\.maxSteps must be an integer >= 1, got -5$/,
    ],
    ["training.maxSteps", "2.5", /must be an integer >= 1/],
    ["lrPolicy.lr", "-1", /^--lrPolicy\.lr=-1: lrPolicy\.lr must be a number > 0, got -1$/],
    [
      "decoder.kind",
      "bogus",
      /^--decoder\.kind=bogus: decoder\.kind must be one of greedy, beam, got "bogus"$/,
    ],
    ["data.batchSize", "0", /data\.batchSize must be an integer >= 1/],
    ["optimizer.beta2", "1", /optimizer\.beta2 must be a number >= 0 and < 1/],
    ["training.maxSteps", "many", /--training\.maxSteps=many: expected a number/],
    ["section.key", "", /"section" is not a section/],
  ];
  for (const [key, value, message] of cases) {
    assert.throws(
      () => applyConfigOverrides(small, [o(key, value)], "small"),
      (e: Error) => e instanceof UsageError && message.test(e.message),
      `--${key}=${value}`,
    );
  }
});

Deno.test("applyConfigOverrides() refuses a beam-search LM without an alpha, naming --decoder.lm", () => {
  assert.throws(
    () => applyConfigOverrides(small, [o("decoder.kind", "beam"), o("decoder.lm", "work/lm.bin")], "small"),
    (e: Error) =>
      e instanceof UsageError &&
      /^--decoder\.lm=work\/lm\.bin: decoder\.lm needs decoder\.alpha/.test(e.message),
  );
  const c = applyConfigOverrides(
    small,
    [o("decoder.kind", "beam"), o("decoder.lm", "work/lm.bin"), o("decoder.alpha", "0.5")],
    "small",
  );
  assert.equal(c.decoder.alpha, 0.5);
});

Deno.test("applyConfigOverrides() applies valid overrides in order and leaves the config alone", () => {
  const c = applyConfigOverrides(
    small,
    [
      o("training.maxSteps", "20"),
      o("decoder.kind", "beam"),
      o("decoder.alpha", "0.5"),
      o("training.maxSteps", "30"),
    ],
    "small",
  );
  assert.equal(c.training.maxSteps, 30);
  assert.deepEqual(c.decoder, { kind: "beam", alpha: 0.5 });
  assert.notEqual(small.training.maxSteps, 30);
});

Deno.test("every named config passes validateConfig()", () => {
  for (const [name, config] of Object.entries(configs)) assert.deepEqual(validateConfig(config), [], name);
});

import assert from "node:assert/strict";
import { UsageError } from "../../cli/args.ts";
import { resolveDecoderConfig } from "../../cli/decoder_flags.ts";

Deno.test("resolveDecoderConfig() never decodes an LM at alpha 0 silently", () => {
  assert.throws(
    () => resolveDecoderConfig({ lm: "lm.bin" }, { kind: "greedy" }),
    (e: Error) => e instanceof UsageError && /--lm lm\.bin needs --alpha/.test(e.message),
  );
  // The checkpoint's own decoder config supplies the weights when it has them.
  assert.deepEqual(
    resolveDecoderConfig({ lm: "other.bin" }, { kind: "beam", lm: "lm.bin", alpha: 0.7, beta: 1.5 }),
    { kind: "beam", lm: "other.bin", alpha: 0.7, beta: 1.5, beamWidth: undefined },
  );
  assert.deepEqual(
    resolveDecoderConfig({ lm: "lm.bin", alpha: 0.5 }),
    { kind: "beam", lm: "lm.bin", alpha: 0.5, beta: 0, beamWidth: undefined },
  );
});

Deno.test("resolveDecoderConfig() follows the checkpoint without flags and --greedy over it", () => {
  const lm = Deno.makeTempFileSync({ suffix: ".bin" });
  const beam = { kind: "beam" as const, lm, alpha: 1, beta: 0, beamWidth: 16 };
  assert.deepEqual(resolveDecoderConfig({}, beam), beam);
  assert.deepEqual(resolveDecoderConfig({ beta: 2 }, beam), { ...beam, beta: 2 });
  assert.deepEqual(resolveDecoderConfig({}), { kind: "greedy" });
  assert.deepEqual(resolveDecoderConfig({ isGreedy: true }, beam), { kind: "greedy" });
  assert.deepEqual(resolveDecoderConfig({ beamWidth: 8 }), {
    kind: "beam",
    lm: undefined,
    alpha: undefined,
    beta: undefined,
    beamWidth: 8,
  });
  assert.throws(() => resolveDecoderConfig({ alpha: 1 }), /--alpha and --beta weigh an LM: give --lm too/);
  assert.throws(() => resolveDecoderConfig({ isGreedy: true, lm: "x" }), /--greedy cannot be combined/);
  Deno.removeSync(lm);
});

Deno.test("resolveDecoderConfig() names a checkpoint's LM that is not here: greedy with a note, an error when flags tune it", () => {
  const beam = { kind: "beam" as const, lm: "work/no/such_lm.bin", alpha: 2, beta: 2, beamWidth: 32 };
  const notes: string[] = [];
  assert.deepEqual(resolveDecoderConfig({}, beam, (n) => notes.push(n)), { kind: "greedy" });
  assert.equal(notes.length, 1);
  assert.match(notes[0], /names the LM work\/no\/such_lm\.bin, which is not here .*: decoding greedily/);
  for (const flags of [{ beta: 1 }, { beamWidth: 8 }]) {
    assert.throws(
      () => resolveDecoderConfig(flags, beam),
      (e: Error) =>
        e instanceof UsageError &&
        /the checkpoint's decoder config names the LM work\/no\/such_lm\.bin, which is not here/.test(
          e.message,
        ) &&
        /--greedy/.test(e.message),
    );
  }
  assert.deepEqual(resolveDecoderConfig({ isGreedy: true }, beam), { kind: "greedy" });
  assert.equal(resolveDecoderConfig({ lm: "other.bin" }, beam).lm, "other.bin");
});

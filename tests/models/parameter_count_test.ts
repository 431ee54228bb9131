import assert from "node:assert/strict";
import { Rng } from "../../ops/mod.ts";
import { CtcModel } from "../../models/ctc_model.ts";
import { config as jasper } from "../../models/configs/jasper10x5_dr.ts";
import { config as w2l } from "../../models/configs/w2lplus_large.ts";
import { large as ds2Large, small as ds2Small } from "../../models/configs/ds2.ts";
import type { SpeechConfig } from "../../models/configs/types.ts";

// Reference counts computed from OpenSeq2Seq's configs (shared/reference section 1.4), 29 outputs.
const cases: [string, SpeechConfig, number][] = [
  ["Jasper DR 10x5", jasper, 332_632_349],
  ["Wave2Letter+", w2l, 106_496_285],
  ["DeepSpeech2 large", ds2Large, 58_971_133],
  ["DeepSpeech2 small", ds2Small, 9_993_469],
];

// Counting needs shapes, not good random numbers: a constant generator keeps the 332 M
// initial values of Jasper from dominating the test's time.
class ConstantRng extends Rng {
  override normal(): number {
    return 0;
  }
  override uniform(): number {
    return 0.5;
  }
}

for (const [name, config, expected] of cases) {
  Deno.test(`${name} has the reference parameter count ${expected.toLocaleString("en-US")}`, () => {
    const model = new CtcModel(config.features.numFeatures, 29, config.encoder, new ConstantRng(0));
    assert.equal(model.parameterCount(), expected);
  });
}

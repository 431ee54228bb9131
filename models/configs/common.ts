/** Pieces the reference configs share: LibriSpeech manifests and run defaults. */
import type { SpeechConfig } from "./types.ts";

/** LibriSpeech manifests as written by scripts/import_librispeech.ts into data/librispeech/. */
export const librispeech = {
  train: [
    "data/librispeech/librivox-train-clean-100.csv",
    "data/librispeech/librivox-train-clean-360.csv",
    "data/librispeech/librivox-train-other-500.csv",
  ],
  eval: ["data/librispeech/librivox-dev-clean.csv"],
  infer: ["data/librispeech/librivox-test-clean.csv"],
};

/** Training-loop defaults (overridden per config). */
export const defaultTraining: SpeechConfig["training"] = {
  maxSteps: 100_000,
  iterSize: 1,
  logEvery: 100,
  evalEvery: 2200,
  saveEvery: 1100,
  keepCheckpoints: 5,
  maxNonFiniteSteps: 20,
  seed: 0,
  logDir: "work/runs/default",
};

/**
 * OpenSeq2Seq's Jasper/W2L+ batch norm: TF decay 0.9 (PyTorch momentum 0.1) and ε 1e-3.
 */
export const tdnnBatchNorm = { bnMomentum: 0.1, bnEps: 1e-3 };

import assert from "node:assert/strict";
import { LogitsFileWriter, readLogitsFile, writeLogitsFile } from "../../decode/logits_file.ts";

function logits(T: number, V: number, seed: number): Float32Array {
  const a = new Float32Array(T * V);
  for (let i = 0; i < a.length; i++) a[i] = Math.sin(seed * 31 + i * 0.7);
  return a;
}

Deno.test("LogitsFileWriter writes, one utterance at a time, the file writeLogitsFile writes at once", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const utts = new Map([
      ["b.wav", { data: logits(7, 5, 1), T: 7, V: 5 }],
      ["a.wav", { data: logits(3, 5, 2), T: 3, V: 5 }],
      ["c.wav", { data: logits(1, 5, 3), T: 1, V: 5 }],
    ]);
    const options = { vocabulary: ["a", "b", "c", "d"], stepSize: 0.02 };
    {
      await using w = await LogitsFileWriter.create(`${dir}/streamed.safetensors`, options);
      for (const [name, u] of utts) await w.add(name, u);
      await w.close();
    }
    await writeLogitsFile(`${dir}/whole.safetensors`, utts, options);
    const streamed = await readLogitsFile(`${dir}/streamed.safetensors`);
    const whole = await readLogitsFile(`${dir}/whole.safetensors`);
    assert.deepEqual(streamed.vocabulary, whole.vocabulary);
    assert.equal(streamed.stepSize, 0.02);
    assert.deepEqual([...streamed.utterances.keys()].sort(), ["a.wav", "b.wav", "c.wav"]);
    for (const [name, u] of utts) {
      const got = streamed.utterances.get(name)!;
      assert.equal(got.T, u.T);
      assert.deepEqual(got.data, u.data);
    }
    // Only the two finished files remain: the temporary data file is gone.
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["streamed.safetensors", "whole.safetensors"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a LogitsFileWriter disposed without close() leaves no file, and a repeated name is an error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    {
      await using w = await LogitsFileWriter.create(`${dir}/out.safetensors`);
      await w.add("a.wav", { data: logits(2, 3, 1), T: 2, V: 3 });
      await assert.rejects(() => w.add("a.wav", { data: logits(2, 3, 1), T: 2, V: 3 }), /written twice/);
    }
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

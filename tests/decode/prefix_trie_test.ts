import assert from "node:assert/strict";
import { LexiconTrie } from "../../decode/prefix_trie.ts";
import { seededRandom } from "./decode_test_helpers.ts";

Deno.test("LexiconTrie.child() agrees with a scan of the edges for labels below and above 32", () => {
  // 40 labels: the bit-mask path serves 0..31 and the scan serves 32..39.
  const alphabet = Array.from({ length: 40 }, (_, i) => String.fromCodePoint(0x61 + i));
  const labelOf = (ch: string): number => alphabet.indexOf(ch);
  const rand = seededRandom(2);
  const words = new Set<string>();
  while (words.size < 400) {
    const len = 1 + Math.floor(rand() * 6);
    words.add(
      Array.from({ length: len }, () => alphabet[Math.floor(rand() * (rand() < 0.5 ? 8 : 40))]).join(""),
    );
  }
  const list = [...words];
  const trie = LexiconTrie.build(list, list.map((_, i) => 100 + i), labelOf);
  assert.equal(trie.nWords, list.length);
  for (let n = 0; n < trie.nNodes; n++) {
    for (let l = 0; l < 40; l++) {
      let want = -1;
      for (let e = trie.edgeStart[n]; e < trie.edgeStart[n + 1]; e++) {
        if (trie.edgeLabel[e] === l) want = trie.edgeChild[e];
      }
      assert.equal(trie.child(n, l), want, `node ${n} label ${l}`);
    }
  }
  // Every word is spelled from the root and ends on its id.
  list.forEach((w, i) => {
    let n = 0;
    for (const ch of w) n = trie.child(n, labelOf(ch));
    assert.equal(trie.wordId[n], 100 + i, w);
  });
});

Deno.test("LexiconTrie.build() leaves out words with a character that has no label", () => {
  const labels = new Map([..."abc"].map((c, i) => [c, i]));
  const trie = LexiconTrie.build(["ab", "ax", "c"], [1, 2, 3], (ch) => labels.get(ch) ?? -1);
  assert.equal(trie.nWords, 2);
  assert.equal(trie.child(trie.child(0, 0), 1) >= 0, true);
  assert.equal(trie.child(0, 2) >= 0, true);
  assert.equal(trie.wordId[trie.child(0, 0)], -1); // "a" alone is not a word
});

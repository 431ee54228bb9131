/**
 * The lexicon of a word LM as a character trie over acoustic label ids: the beam search walks
 * it to keep every word it spells inside the LM's vocabulary (Baidu's decoder does the same
 * with a determinised, minimised OpenFST acceptor of "word␣" strings: `scorer.cpp
 * fill_dictionary`; both accept the same language) and reads the LM word id at word ends.
 *
 * Layout: compressed rows. Node n's children are edges edgeStart[n] .. edgeStart[n+1]-1,
 * sorted by label, with edgeLabel / edgeChild; wordId[n] is the LM id of the word ending at n
 * or -1. For labels below 32, labelMask[n] has bit l set when n has a child along l, so a
 * lookup is a popcount (the beam search asks about every extension it scores). Node 0 is the root. Words with a character that has no label are left out, as Baidu
 * leaves them out (`add_word_to_dictionary`).
 *
 * Not done: minimisation (a plain trie is larger but needs no FST library), sharing across
 * Workers (each Worker builds its own copy in well under a second for 200k words).
 *
 * @module
 */

/** A character trie of LM words over label ids. */
export class LexiconTrie {
  /** Number of nodes (the root included). */
  readonly nNodes: number;
  /** First edge of each node; length nNodes + 1. */
  readonly edgeStart: Int32Array;
  /** Label of each edge, ascending within a node. */
  readonly edgeLabel: Int32Array;
  /** Child node of each edge. */
  readonly edgeChild: Int32Array;
  /** LM word id of the word that ends at a node, or -1. */
  readonly wordId: Int32Array;
  /** Number of words inserted. */
  readonly nWords: number;
  /** Bit l set when a node has a child along label l (labels 0..31 only). */
  readonly labelMask: Uint32Array;

  private constructor(
    edgeStart: Int32Array,
    edgeLabel: Int32Array,
    edgeChild: Int32Array,
    wordId: Int32Array,
    nWords: number,
  ) {
    this.nNodes = wordId.length;
    this.edgeStart = edgeStart;
    this.edgeLabel = edgeLabel;
    this.edgeChild = edgeChild;
    this.wordId = wordId;
    this.nWords = nWords;
    this.labelMask = new Uint32Array(this.nNodes);
    for (let n = 0; n < this.nNodes; n++) {
      let m = 0;
      for (let e = edgeStart[n]; e < edgeStart[n + 1]; e++) if (edgeLabel[e] < 32) m |= 1 << edgeLabel[e];
      this.labelMask[n] = m >>> 0;
    }
  }

  /**
   * Builds the trie from words and their LM ids. `labelOf` maps one character (a code point)
   * to its label id, or -1 when the acoustic model has no such label.
   *
   * @example
   * ```ts
   * import { LexiconTrie } from "./prefix_trie.ts";
   * const labels = new Map([..."abc"].map((c, i) => [c, i]));
   * const trie = LexiconTrie.build(["ab", "ca"], [7, 8], (ch) => labels.get(ch) ?? -1);
   * trie.wordId[trie.child(trie.child(0, 0), 1)]; // 7
   * ```
   */
  static build(
    words: readonly string[],
    ids: ArrayLike<number>,
    labelOf: (ch: string) => number,
  ): LexiconTrie {
    const kids: Map<number, number>[] = [new Map()];
    const wordAt: number[] = [-1];
    let nWords = 0;
    const path: number[] = [];
    outer: for (let w = 0; w < words.length; w++) {
      path.length = 0;
      for (const ch of words[w]) {
        const l = labelOf(ch);
        if (l < 0) continue outer;
        path.push(l);
      }
      if (path.length === 0) continue;
      let node = 0;
      for (const l of path) {
        let next = kids[node].get(l);
        if (next === undefined) {
          next = kids.length;
          kids.push(new Map());
          wordAt.push(-1);
          kids[node].set(l, next);
        }
        node = next;
      }
      if (wordAt[node] === -1) nWords++;
      wordAt[node] = ids[w];
    }
    const n = kids.length;
    const edgeStart = new Int32Array(n + 1);
    let nEdges = 0;
    for (let i = 0; i < n; i++) {
      edgeStart[i] = nEdges;
      nEdges += kids[i].size;
    }
    edgeStart[n] = nEdges;
    const edgeLabel = new Int32Array(nEdges);
    const edgeChild = new Int32Array(nEdges);
    for (let i = 0; i < n; i++) {
      const sorted = [...kids[i].entries()].sort((a, b) => a[0] - b[0]);
      let e = edgeStart[i];
      for (const [l, c] of sorted) {
        edgeLabel[e] = l;
        edgeChild[e] = c;
        e++;
      }
    }
    return new LexiconTrie(edgeStart, edgeLabel, edgeChild, Int32Array.from(wordAt), nWords);
  }

  /** The child of `node` along `label`, or -1. */
  child(node: number, label: number): number {
    if (label < 32) {
      const m = this.labelMask[node];
      if ((m & (1 << label)) === 0) return -1;
      // Children are sorted by label: the rank of the bit is the edge offset.
      let x = (m & ((1 << label) - 1)) >>> 0;
      x = x - ((x >>> 1) & 0x55555555);
      x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
      const rank = (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
      return this.edgeChild[this.edgeStart[node] + rank];
    }
    const end = this.edgeStart[node + 1];
    const lab = this.edgeLabel;
    for (let e = this.edgeStart[node]; e < end; e++) {
      const l = lab[e];
      if (l === label) return this.edgeChild[e];
      if (l > label) return -1;
    }
    return -1;
  }
}

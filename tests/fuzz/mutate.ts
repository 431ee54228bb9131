/**
 * A small seeded mutation engine for the file-reader fuzz tests, and the harness that runs a
 * reader over the mutants and classifies each outcome.
 *
 * Mutations of a valid seed file: bit flips, byte overwrites with boundary values, byte
 * insertion and deletion, truncation, duplicated or removed spans, and field-targeted writes
 * of boundary values (0, 1, 2^31 - 1, 2^32 - 1, ...) into the header fields a format reads
 * sizes and counts from, so the size checks are reached instead of only the magic check.
 * Text formats add line-level mutations (delete, duplicate, swap lines; replace a number with
 * a huge or negative one).
 *
 * Outcome of one input: `accepted` (the reader returned), `rejected` (it threw an Error whose
 * message names the input's file, the toolkit's own error), or a finding: `crash` (any other
 * exception, e.g. an engine RangeError or TypeError) or `slow` (over the time limit). Every
 * mutant is reproducible from (seed, index).
 *
 * It does not generate inputs from a grammar: every mutant starts from a valid file.
 */
import { Rng } from "../../ops/random.ts";

/** A header field the field-targeted mutation may overwrite. */
export interface FieldSpec {
  /** Byte offset of the field in the seed. */
  offset: number;
  /** Width in bytes: 1, 2, 4 or 8. */
  nBytes: 1 | 2 | 4 | 8;
  /** Byte order (default little-endian). */
  isBigEndian?: boolean;
}

/** One valid input and the header fields worth targeting in it. */
export interface FuzzSeed {
  /** The valid file. */
  bytes: Uint8Array;
  /** Size and count fields of its header. */
  fields?: FieldSpec[];
  /** True for text formats: line-level mutations are added. */
  isText?: boolean;
  /**
   * Applied to each mutant before it is read: gzip for "mutate the text, then compress", or a
   * checksum re-stamp so that a mutant gets past the checksum to the structural checks.
   */
  encode?: (bytes: Uint8Array) => Uint8Array;
}

/** What the harness found for one format. */
export interface FuzzReport {
  /** The format's name. */
  format: string;
  /** Inputs tried. */
  nInputs: number;
  /** Inputs the reader accepted. */
  nAccepted: number;
  /** Inputs rejected with the toolkit's own error naming the file. */
  nRejected: number;
  /** Findings: other exceptions and inputs over the time limit, with how to reproduce each. */
  findings: string[];
  /** Slowest single input in milliseconds. */
  slowestMs: number;
  /** Index of the slowest input. */
  slowestIndex: number;
}

const BOUNDARY_8 = [0, 1, 0x7f, 0x80, 0xff];
const BOUNDARY_32 = [0, 1, 2, 7, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

function writeField(out: Uint8Array, field: FieldSpec, value: bigint): void {
  if (field.offset + field.nBytes > out.length) return;
  for (let i = 0; i < field.nBytes; i++) {
    const byte = Number((value >> BigInt(8 * i)) & 0xffn);
    out[field.offset + (field.isBigEndian ? field.nBytes - 1 - i : i)] = byte;
  }
}

function boundaryValue(rng: Rng, nBytes: number): bigint {
  const max = (1n << BigInt(8 * nBytes)) - 1n;
  const pick = rng.int(4);
  if (pick === 0) return max;
  if (pick === 1) return max >> 1n;
  if (pick === 2) return BigInt(rng.choice(BOUNDARY_32)) & max;
  return BigInt(rng.nextUint32()) & max;
}

function mutateBytes(rng: Rng, seed: FuzzSeed): Uint8Array {
  const src = seed.bytes;
  let out: Uint8Array = src.slice();
  const nSteps = 1 + rng.int(3);
  for (let s = 0; s < nSteps; s++) {
    const n = out.length;
    const kind = rng.int(seed.fields && seed.fields.length > 0 ? 8 : 7);
    if (n === 0) {
      out = Uint8Array.of(rng.int(256));
      continue;
    }
    const at = rng.int(Math.max(n, 1));
    // Most file headers sit in the first few hundred bytes: bias a third of the edits there.
    const headAt = rng.int(3) === 0 ? rng.int(Math.min(n, 256)) : at;
    if (kind === 0) {
      out[headAt] ^= 1 << rng.int(8);
    } else if (kind === 1) {
      out[headAt] = rng.choice(BOUNDARY_8);
    } else if (kind === 2) {
      const len = 1 + rng.int(8);
      const grown = new Uint8Array(n + len);
      grown.set(out.subarray(0, headAt));
      for (let i = 0; i < len; i++) grown[headAt + i] = rng.int(256);
      grown.set(out.subarray(headAt), headAt + len);
      out = grown;
    } else if (kind === 3) {
      const len = 1 + rng.int(Math.min(16, n - headAt));
      const shrunk = new Uint8Array(n - len);
      shrunk.set(out.subarray(0, headAt));
      shrunk.set(out.subarray(headAt + len), headAt);
      out = shrunk;
    } else if (kind === 4) {
      out = out.slice(0, rng.int(2) === 0 ? rng.int(Math.min(n, 128)) : at);
    } else if (kind === 5) {
      // Duplicate a span (a repeated chunk, a doubled record).
      const len = 1 + rng.int(Math.min(64, n - at));
      const span = out.slice(at, at + len);
      const grown = new Uint8Array(n + len);
      grown.set(out.subarray(0, at + len));
      grown.set(span, at + len);
      grown.set(out.subarray(at + len), at + 2 * len);
      out = grown;
    } else if (kind === 6) {
      const off = rng.int(Math.max(n - 3, 1));
      const v = rng.choice(BOUNDARY_32);
      for (let i = 0; i < 4 && off + i < n; i++) out[off + i] = (v >>> (8 * i)) & 0xff;
    } else {
      const field = rng.choice(seed.fields!);
      writeField(out, field, boundaryValue(rng, field.nBytes));
    }
  }
  return out;
}

const HUGE_NUMBERS = ["4294967296", "99999999999999999999", "-1", "0", "1e308", "NaN", "-inf", "2147483648"];

function mutateText(rng: Rng, text: string): string {
  const lines = text.split("\n");
  const nSteps = 1 + rng.int(3);
  for (let s = 0; s < nSteps; s++) {
    if (lines.length === 0) lines.push("");
    const i = rng.int(lines.length);
    const kind = rng.int(5);
    if (kind === 0) lines.splice(i, 1);
    else if (kind === 1) lines.splice(i, 0, lines[i]);
    else if (kind === 2) {
      const j = rng.int(lines.length);
      [lines[i], lines[j]] = [lines[j], lines[i]];
    } else if (kind === 3) {
      // Any one number of the line: a count, an order, a size, a probability.
      const numbers = [...lines[i].matchAll(/-?\d+(\.\d+)?/g)];
      if (numbers.length > 0) {
        const m = numbers[rng.int(numbers.length)];
        lines[i] = lines[i].slice(0, m.index) + rng.choice(HUGE_NUMBERS) +
          lines[i].slice(m.index + m[0].length);
      }
    } else {
      const fields = lines[i].split(/(\s+|,|:)/);
      const k = rng.int(fields.length);
      fields[k] = rng.choice(["", '"', "{", "\\", "\u0000", "\uFFFD", "__proto__", fields[k] + fields[k]]);
      lines[i] = fields.join("");
    }
  }
  return lines.join("\n");
}

/** The `index`-th mutant of `seeds` under `seed`: deterministic, so a finding can be replayed. */
export function mutant(seeds: readonly FuzzSeed[], seed: number, index: number): Uint8Array {
  const rng = new Rng(seed * 1_000_003 + index);
  const base = seeds[rng.int(seeds.length)];
  const encode = base.encode ?? ((b: Uint8Array) => b);
  if (base.isText && rng.int(2) === 0) {
    const text = new TextDecoder().decode(base.bytes);
    return encode(new TextEncoder().encode(mutateText(rng, text)));
  }
  return encode(mutateBytes(rng, base));
}

/** A format under test: its seeds and how to read one input. */
export interface FuzzTarget {
  /** Format name for reports. */
  format: string;
  /** Valid inputs the mutants start from. */
  seeds: FuzzSeed[];
  /**
   * Reads one input. `label` is the file name the reader must name in its errors (the path of
   * a temporary file holding `bytes`, for readers that take a path).
   */
  read(bytes: Uint8Array, label: string): unknown | Promise<unknown>;
  /** True when the reader takes a path: each mutant is written to a temporary file, `label`, first. */
  needsFile?: boolean;
  /** File name suffix (".flac", ".arpa.gz", ...). */
  suffix?: string;
  /** What a rejection must name when it is not the file (a command-line flag); default `label`. */
  expectedName?: (bytes: Uint8Array, label: string) => string;
}

/** Options of {@link runFuzz}. */
export interface RunFuzzOptions {
  /** Inputs to try. */
  count: number;
  /** Base seed; input i is `mutant(seeds, seed, i)`. */
  seed: number;
  /** Time limit per input (default 1000 ms). */
  limitMs?: number;
  /** Folder for the temporary files of path-based readers. */
  dir?: string;
}

/** Runs `target` over `count` mutants and returns what it found; never throws for a finding. */
export async function runFuzz(target: FuzzTarget, options: RunFuzzOptions): Promise<FuzzReport> {
  const limitMs = options.limitMs ?? 1000;
  const report: FuzzReport = {
    format: target.format,
    nInputs: 0,
    nAccepted: 0,
    nRejected: 0,
    findings: [],
    slowestMs: 0,
    slowestIndex: -1,
  };
  const dir = target.needsFile ? (options.dir ?? await Deno.makeTempDir({ prefix: "fuzz_" })) : "";
  try {
    for (let i = 0; i < options.count; i++) {
      const bytes = mutant(target.seeds, options.seed, i);
      const label = target.needsFile
        ? `${dir}/input-${i}${target.suffix ?? ""}`
        : `fuzz-${i}${target.suffix ?? ""}`;
      if (target.needsFile) await Deno.writeFile(label, bytes);
      const t0 = performance.now();
      let crash: unknown = null;
      try {
        await target.read(bytes, label);
        report.nAccepted++;
      } catch (e) {
        const name = target.expectedName ? target.expectedName(bytes, label) : label;
        if (e instanceof Error && e.message.includes(name) && !isEngineError(e)) report.nRejected++;
        else crash = e;
      }
      const ms = performance.now() - t0;
      if (target.needsFile) await Deno.remove(label).catch(() => {});
      report.nInputs++;
      if (ms > report.slowestMs) {
        report.slowestMs = ms;
        report.slowestIndex = i;
      }
      const where = `${target.format} seed ${options.seed} input ${i} (${bytes.length} bytes)`;
      if (crash !== null) {
        const e = crash as Error;
        report.findings.push(`${where}: uncaught ${e?.name ?? typeof crash}: ${String(e?.message ?? crash)}`);
      }
      if (ms > limitMs) report.findings.push(`${where}: took ${ms.toFixed(0)} ms (limit ${limitMs})`);
    }
  } finally {
    if (target.needsFile && options.dir === undefined) await Deno.remove(dir, { recursive: true });
  }
  return report;
}

const ENGINE_ERROR = new RegExp(
  [
    "Invalid typed array length",
    "Invalid array length",
    "Invalid string length",
    "Array buffer allocation failed",
    "out of memory",
    "Maximum call stack",
    "Cannot read properties",
    "Cannot destructure",
    "is not a function",
    "is not iterable",
    "Offset is outside the bounds",
    "should be a multiple of",
  ].join("|"),
);

// An engine error that merely passed through a message naming the file is still an engine
// error: the toolkit's readers raise plain Error (or RangeError with their own text).
function isEngineError(e: Error): boolean {
  return ENGINE_ERROR.test(e.message);
}

/** One line per report, for the test log and RELIABILITY.md. */
export function formatReport(r: FuzzReport): string {
  return `${r.format}: ${r.nInputs} inputs, ${r.nAccepted} accepted, ${r.nRejected} rejected with a named error, ` +
    `${r.findings.length} findings, slowest ${r.slowestMs.toFixed(1)} ms (input ${r.slowestIndex})`;
}

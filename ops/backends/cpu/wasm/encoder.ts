/**
 * A small encoder of the WebAssembly binary format (core spec 1.0 + the fixed-width SIMD
 * proposal), enough for the cpu backend's generated kernels: one imported shared memory,
 * functions with i32/f32/v128 locals, and their exports. Instructions are appended to a
 * `WasmCode` through named helpers, so a generator reads like the instruction sequence it emits.
 *
 * Not here: validation (the engine validates at `new WebAssembly.Module`), tables, globals,
 * data segments, or any instruction the kernels do not use.
 *
 * Reference for the byte values: WebAssembly Core Specification, section 5 (binary format),
 * and the SIMD proposal's opcode table (prefix 0xFD).
 */

/** Value types. */
export const ValType = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
/** A value type's byte. */
export type ValTypeByte = typeof ValType[keyof typeof ValType];

/** Unsigned LEB128 of a non-negative integer below 2^53. */
export function uleb128(n: number): number[] {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`uleb128: expected a non-negative integer, got ${n}`);
  }
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of an integer in the int32 range (what i32.const takes). */
export function sleb128(n: number): number[] {
  if (!Number.isInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) {
    throw new RangeError(`sleb128: expected an int32, got ${n}`);
  }
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function f32Bytes(v: number): number[] {
  return [...new Uint8Array(new Float32Array([v]).buffer)];
}

function nameBytes(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb128(b.length), ...b];
}

function vector(items: number[][]): number[] {
  return [...uleb128(items.length), ...items.flat()];
}

/** SIMD instructions (prefix 0xFD), by the names the proposal gives them. */
export const Simd = {
  "v128.load": 0x00,
  "v128.load32_splat": 0x09,
  "v128.store": 0x0b,
  "v128.const": 0x0c,
  "i32x4.splat": 0x11,
  "f32x4.splat": 0x13,
  "f32x4.extract_lane": 0x1f,
  "i32x4.eq": 0x37,
  "i32x4.ne": 0x38,
  "i32x4.lt_s": 0x39,
  "i32x4.gt_s": 0x3b,
  "f32x4.eq": 0x41,
  "f32x4.ne": 0x42,
  "f32x4.lt": 0x43,
  "f32x4.gt": 0x44,
  "f32x4.le": 0x45,
  "f32x4.ge": 0x46,
  "v128.not": 0x4d,
  "v128.and": 0x4e,
  "v128.andnot": 0x4f,
  "v128.or": 0x50,
  "v128.xor": 0x51,
  "v128.bitselect": 0x52,
  "v128.store32_lane": 0x5a,
  "v128.load32_zero": 0x5c,
  "f32x4.ceil": 0x67,
  "f32x4.floor": 0x68,
  "f32x4.trunc": 0x69,
  "f32x4.nearest": 0x6a,
  "i32x4.shl": 0xab,
  "i32x4.shr_s": 0xac,
  "i32x4.shr_u": 0xad,
  "i32x4.add": 0xae,
  "i32x4.sub": 0xb1,
  "i32x4.mul": 0xb5,
  "f32x4.demote_f64x2_zero": 0x5e,
  "f64x2.promote_low_f32x4": 0x5f,
  "f64x2.add": 0xf0,
  "f64x2.extract_lane": 0x21,
  "i32x4.lt_u": 0x3a,
  "i64x2.extmul_low_i32x4_u": 0xde,
  "i64x2.extmul_high_i32x4_u": 0xdf,
  "f32x4.abs": 0xe0,
  "f32x4.neg": 0xe1,
  "f32x4.sqrt": 0xe3,
  "f32x4.add": 0xe4,
  "f32x4.sub": 0xe5,
  "f32x4.mul": 0xe6,
  "f32x4.div": 0xe7,
  "f32x4.min": 0xe8,
  "f32x4.max": 0xe9,
  "f32x4.pmin": 0xea,
  "f32x4.pmax": 0xeb,
  "i32x4.trunc_sat_f32x4_s": 0xf8,
  "f32x4.convert_i32x4_s": 0xfa,
} as const;
/** Name of a SIMD instruction. */
export type SimdOp = keyof typeof Simd;

/** Plain (one-byte) instructions the kernels use. */
export const Op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  br_if: 0x0d,
  return: 0x0f,
  drop: 0x1a,
  select: 0x1b,
  "local.get": 0x20,
  "local.set": 0x21,
  "local.tee": 0x22,
  "i32.load": 0x28,
  "f32.load": 0x2a,
  "f64.load": 0x2b,
  "i32.store": 0x36,
  "f32.store": 0x38,
  "f64.store": 0x39,
  "i32.const": 0x41,
  "f32.const": 0x43,
  "i32.eqz": 0x45,
  "i32.eq": 0x46,
  "i32.ne": 0x47,
  "i32.lt_s": 0x48,
  "i32.lt_u": 0x49,
  "i32.gt_u": 0x4b,
  "i32.ge_u": 0x4f,
  "f32.eq": 0x5b,
  "f32.lt": 0x5d,
  "f32.gt": 0x5e,
  "i32.add": 0x6a,
  "i32.sub": 0x6b,
  "i32.mul": 0x6c,
  "i32.div_u": 0x6e,
  "i32.rem_u": 0x70,
  "i32.and": 0x71,
  "i32.or": 0x72,
  "i32.shl": 0x74,
  "i32.shr_u": 0x76,
  "f32.abs": 0x8b,
  "f32.add": 0x92,
  "f32.sub": 0x93,
  "f32.mul": 0x94,
  "f32.div": 0x95,
  "f32.min": 0x96,
  "f32.max": 0x97,
  "f64.add": 0xa0,
  "f32.demote_f64": 0xb6,
  "f64.promote_f32": 0xbb,
} as const;
/** Name of a plain instruction. */
export type PlainOp = keyof typeof Op;

/** Block type "no result". */
const EMPTY_BLOCK = 0x40;

/**
 * The body of one function: locals (declared as they are requested) and instructions.
 * Parameters are locals 0..params-1; `local(type)` hands out the next index.
 */
export class WasmCode {
  readonly bytes: number[] = [];
  readonly #localTypes: ValTypeByte[] = [];
  readonly #nParams: number;
  readonly #constants = new Map<string, number>();
  readonly #prologue: number[] = [];

  constructor(nParams: number) {
    this.#nParams = nParams;
  }

  /** Declares a new local of `type` and returns its index. */
  local(type: ValTypeByte): number {
    this.#localTypes.push(type);
    return this.#nParams + this.#localTypes.length - 1;
  }

  /** Appends a plain instruction (immediates, if any, follow through the other helpers). */
  op(name: PlainOp): this {
    this.bytes.push(Op[name]);
    return this;
  }

  /** Appends a SIMD instruction without immediates. */
  simd(name: SimdOp): this {
    this.bytes.push(0xfd, ...uleb128(Simd[name]));
    return this;
  }

  /** A SIMD memory instruction with its memarg (log2 alignment, byte offset). */
  simdMem(name: SimdOp, alignLog2: number, offset = 0): this {
    this.simd(name);
    this.bytes.push(...uleb128(alignLog2), ...uleb128(offset));
    return this;
  }

  /** v128.store32_lane: memarg then the lane index. */
  storeLane32(lane: number, offset = 0): this {
    this.simdMem("v128.store32_lane", 2, offset);
    this.bytes.push(lane);
    return this;
  }

  /** f64x2.extract_lane with its lane index. */
  extractLaneF64(lane: number): this {
    this.simd("f64x2.extract_lane");
    this.bytes.push(lane);
    return this;
  }

  /** f32x4.extract_lane with its lane index. */
  extractLaneF32(lane: number): this {
    this.simd("f32x4.extract_lane");
    this.bytes.push(lane);
    return this;
  }

  /** A scalar memory instruction (i32/f32/f64 loads and stores) with its memarg. */
  mem(
    name: "i32.load" | "i32.store" | "f32.load" | "f32.store" | "f64.load" | "f64.store",
    offset = 0,
  ): this {
    this.bytes.push(Op[name], name.startsWith("f64") ? 3 : 2, ...uleb128(offset));
    return this;
  }

  /** memory.fill (bulk memory): dest, byte value, length in bytes from the stack. */
  memoryFill(): this {
    this.bytes.push(0xfc, ...uleb128(11), 0x00);
    return this;
  }

  /** memory.copy (bulk memory): dest, src, length in bytes from the stack; overlap-safe. */
  memoryCopy(): this {
    this.bytes.push(0xfc, ...uleb128(10), 0x00, 0x00);
    return this;
  }

  /** i8x16.shuffle with its 16 lane indices (0–15 from the first operand, 16–31 the second). */
  shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16) throw new RangeError(`i8x16.shuffle needs 16 lanes, got ${lanes.length}`);
    this.bytes.push(0xfd, ...uleb128(0x0d), ...lanes);
    return this;
  }

  get(i: number): this {
    this.bytes.push(Op["local.get"], ...uleb128(i));
    return this;
  }
  set(i: number): this {
    this.bytes.push(Op["local.set"], ...uleb128(i));
    return this;
  }
  tee(i: number): this {
    this.bytes.push(Op["local.tee"], ...uleb128(i));
    return this;
  }
  i32(v: number): this {
    this.bytes.push(Op["i32.const"], ...sleb128(v));
    return this;
  }
  f32(v: number): this {
    this.bytes.push(Op["f32.const"], ...f32Bytes(v));
    return this;
  }
  /** The same float32 in every lane (a v128 constant: see `#constant`). */
  f32x4(v: number): this {
    const b = f32Bytes(v);
    return this.#constant([...b, ...b, ...b, ...b]);
  }
  /** The same int32 in every lane (a v128 constant). */
  i32x4(v: number): this {
    const b = [...new Uint8Array(new Int32Array([v]).buffer)];
    return this.#constant([...b, ...b, ...b, ...b]);
  }

  /**
   * A v128 constant, read from a local that the function's prologue sets once: V8 rebuilds a
   * v128.const inside a loop on every iteration (measured: the exp loop ran ~4x slower).
   */
  #constant(bytes: number[]): this {
    const key = bytes.join(",");
    let i = this.#constants.get(key);
    if (i === undefined) {
      i = this.local(ValType.v128);
      this.#constants.set(key, i);
      this.#prologue.push(0xfd, ...uleb128(Simd["v128.const"]), ...bytes, Op["local.set"], ...uleb128(i));
    }
    return this.get(i);
  }
  /** A v128 constant from four int32 lanes. */
  i32x4Lanes(l0: number, l1: number, l2: number, l3: number): this {
    return this.#constant([...new Uint8Array(new Int32Array([l0, l1, l2, l3]).buffer)]);
  }
  /** `block` / `loop` / `if` without a result; close with `end()`. */
  begin(kind: "block" | "loop" | "if"): this {
    this.bytes.push(Op[kind], EMPTY_BLOCK);
    return this;
  }
  end(): this {
    this.bytes.push(Op.end);
    return this;
  }
  br(depth: number): this {
    this.bytes.push(Op.br, ...uleb128(depth));
    return this;
  }
  brIf(depth: number): this {
    this.bytes.push(Op.br_if, ...uleb128(depth));
    return this;
  }

  /** The function body as the code section stores it (size-prefixed, locals run-length encoded). */
  encode(): number[] {
    const runs: number[][] = [];
    for (const t of this.#localTypes) {
      const last = runs[runs.length - 1];
      if (last && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    const body = [
      ...vector(runs.map(([n, t]) => [...uleb128(n), t])),
      ...this.#prologue,
      ...this.bytes,
      Op.end,
    ];
    return [...uleb128(body.length), ...body];
  }
}

/** One function of a module. */
export interface WasmFunction {
  readonly name: string;
  readonly params: readonly ValTypeByte[];
  readonly results: readonly ValTypeByte[];
  readonly code: WasmCode;
}

/** Options of `encodeModule`. */
export interface ModuleOptions {
  /** Import `env.memory` as a shared memory with these page limits. */
  readonly memory: { readonly minPages: number; readonly maxPages: number; readonly shared: boolean };
}

function section(id: number, payload: number[]): number[] {
  return [id, ...uleb128(payload.length), ...payload];
}

/** Encodes a module whose functions are all exported under their names. */
export function encodeModule(
  functions: readonly WasmFunction[],
  options: ModuleOptions,
): Uint8Array<ArrayBuffer> {
  const { minPages, maxPages, shared } = options.memory;
  const types = functions.map((
    f,
  ) => [0x60, ...vector(f.params.map((t) => [t])), ...vector(f.results.map((t) => [t]))]);
  const memLimits = shared
    ? [0x03, ...uleb128(minPages), ...uleb128(maxPages)]
    : [0x01, ...uleb128(minPages), ...uleb128(maxPages)];
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00, // magic, version 1
    ...section(1, vector(types)),
    ...section(2, vector([[...nameBytes("env"), ...nameBytes("memory"), 0x02, ...memLimits]])),
    ...section(3, vector(functions.map((_, i) => uleb128(i)))),
    ...section(7, vector(functions.map((f, i) => [...nameBytes(f.name), 0x00, ...uleb128(i)]))),
    ...section(10, vector(functions.map((f) => f.code.encode()))),
  ];
  return new Uint8Array(bytes);
}

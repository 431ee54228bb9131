/**
 * A bit-exact FLAC decoder (RFC 9639). LibriSpeech ships FLAC; an own decoder keeps readAudio
 * synchronous and dependency-free, checks every CRC, and names the file and byte offset in each
 * error, which an npm wrapper would not guarantee.
 *
 * Contract: decodes native FLAC streams (optionally behind an ID3v2 tag) with 4-32 bits per
 * sample and 1-8 channels: STREAMINFO, frames with fixed or variable block size, CONSTANT /
 * VERBATIM / FIXED / LPC subframes, Rice partitions with 4- and 5-bit parameters and escape
 * codes, wasted bits, and left/side, side/right and mid/side stereo. It checks the sync code,
 * each frame header's CRC-8 and each frame's CRC-16, and, when STREAMINFO carries one and
 * `verifyMd5` is on (default), the MD5 of the decoded samples. Samples come back as Float32
 * scaled by 2^(bps-1), exact for up to 24 bits.
 *
 * Not handled: Ogg-encapsulated FLAC, seeking, 33-bit side channels of 32-bit streams, and
 * metadata other than STREAMINFO (skipped).
 * Every malformed input raises an Error naming the file and the byte offset.
 */
import { createHash } from "node:crypto";
import type { DecodedAudio } from "./wav.ts";

/** Options of {@link decodeFlac}. */
export interface FlacDecodeOptions {
  /** Check the decoded samples against STREAMINFO's MD5 (default true; skipped when it is all zero). */
  verifyMd5?: boolean;
}

const CRC8 = new Uint8Array(256);
const CRC16 = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let c8 = i;
  let c16 = i << 8;
  for (let b = 0; b < 8; b++) {
    c8 = c8 & 0x80 ? ((c8 << 1) ^ 0x07) & 0xff : (c8 << 1) & 0xff;
    c16 = c16 & 0x8000 ? ((c16 << 1) ^ 0x8005) & 0xffff : (c16 << 1) & 0xffff;
  }
  CRC8[i] = c8;
  CRC16[i] = c16;
}

/** True when `bytes` starts like a native FLAC stream (possibly behind an ID3v2 tag). */
export function isFlac(bytes: Uint8Array): boolean {
  const off = skipId3(bytes);
  return bytes.length >= off + 4 && bytes[off] === 0x66 && bytes[off + 1] === 0x4c &&
    bytes[off + 2] === 0x61 && bytes[off + 3] === 0x43;
}

function skipId3(bytes: Uint8Array): number {
  if (bytes.length >= 10 && bytes[0] === 0x49 && bytes[1] === 0x44 && bytes[2] === 0x33) {
    // ID3v2 size is four 7-bit bytes (syncsafe), plus the 10-byte header.
    return 10 +
      ((bytes[6] & 0x7f) << 21 | (bytes[7] & 0x7f) << 14 | (bytes[8] & 0x7f) << 7 | (bytes[9] & 0x7f));
  }
  return 0;
}

/**
 * MSB-first bit reader over a copy of the stream padded with 8 zero bytes, so a 32-bit window
 * never reads past the end; `end` (in bits) is checked where a truncation could otherwise loop.
 */
class BitReader {
  readonly buf: Uint8Array;
  readonly endBits: number;
  pos = 0;
  constructor(bytes: Uint8Array) {
    this.buf = new Uint8Array(bytes.length + 8);
    this.buf.set(bytes);
    this.endBits = bytes.length * 8;
  }
  /** Reads n <= 25 bits as an unsigned integer. */
  bits(n: number): number {
    if (n === 0) return 0;
    const b = this.buf;
    const i = this.pos >>> 3;
    const w = ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) << (this.pos & 7);
    this.pos += n;
    return w >>> (32 - n);
  }
  /** Reads n <= 32 bits as an unsigned integer. */
  bitsLong(n: number): number {
    if (n <= 24) return this.bits(n);
    const hi = this.bits(n - 16);
    return hi * 65536 + this.bits(16);
  }
  /** Reads n <= 32 bits as a two's-complement signed integer. */
  signed(n: number): number {
    if (n === 0) return 0;
    const u = this.bitsLong(n);
    return u >= 2 ** (n - 1) ? u - 2 ** n : u;
  }
  /** Counts zero bits up to the next one bit and consumes them and the one. */
  unary(): number {
    const b = this.buf;
    let count = 0;
    for (;;) {
      const i = this.pos >>> 3;
      const sh = this.pos & 7;
      const w = (((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) << sh) >>> 0;
      if (w !== 0) {
        const z = Math.clz32(w);
        this.pos += z + 1;
        return count + z;
      }
      count += 32 - sh;
      this.pos += 32 - sh;
      if (this.pos > this.endBits) return count;
    }
  }
  alignToByte(): void {
    this.pos = (this.pos + 7) & ~7;
  }
}

interface StreamInfo {
  sampleRate: number;
  nChannels: number;
  bitsPerSample: number;
  totalSamples: number;
  md5: Uint8Array;
  maxBlockSize: number;
}

function parseStreamInfo(r: BitReader, name: string, off: number): StreamInfo {
  r.pos = off * 8;
  r.bits(16); // min block size
  const maxBlockSize = r.bits(16);
  r.bits(24); // min frame size
  r.bits(24); // max frame size
  const sampleRate = r.bits(20);
  const nChannels = r.bits(3) + 1;
  const bitsPerSample = r.bits(5) + 1;
  const totalSamples = r.bits(4) * 2 ** 32 + r.bitsLong(32);
  const md5 = r.buf.slice(off + 18, off + 34);
  if (sampleRate === 0) throw new Error(`${name}: FLAC STREAMINFO declares sample rate 0`);
  if (bitsPerSample < 4) {
    throw new Error(`${name}: FLAC STREAMINFO declares ${bitsPerSample} bits per sample`);
  }
  return { sampleRate, nChannels, bitsPerSample, totalSamples, md5, maxBlockSize };
}

const BLOCK_SIZES = [0, 192, 576, 1152, 2304, 4608, -8, -16, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768];
const SAMPLE_SIZES = [0, 8, 12, 0, 16, 20, 24, 32];

/**
 * Decodes a native FLAC stream held in memory, bit-exactly.
 *
 * @param bytes the whole file
 * @param name the file name, used only in error messages
 * @example
 * ```ts
 * const { sampleRate, channels } = decodeFlac(Deno.readFileSync("a.flac"), "a.flac");
 * ```
 */
export function decodeFlac(bytes: Uint8Array, name: string, options: FlacDecodeOptions = {}): DecodedAudio {
  let off = skipId3(bytes);
  if (!isFlac(bytes)) throw new Error(`${name}: not a FLAC stream (no 'fLaC' magic)`);
  const r = new BitReader(bytes);
  off += 4;
  let info: StreamInfo | null = null;
  for (let last = false; !last;) {
    if (off + 4 > bytes.length) {
      throw new Error(`${name}: truncated FLAC metadata block header at byte ${off}`);
    }
    last = (bytes[off] & 0x80) !== 0;
    const type = bytes[off] & 0x7f;
    const len = (bytes[off + 1] << 16) | (bytes[off + 2] << 8) | bytes[off + 3];
    off += 4;
    if (off + len > bytes.length) {
      throw new Error(`${name}: truncated FLAC metadata block (type ${type}) at byte ${off}`);
    }
    if (type === 0) {
      if (len < 34) throw new Error(`${name}: FLAC STREAMINFO is ${len} bytes, expected 34`);
      info = parseStreamInfo(r, name, off);
    } else if (type === 127) {
      throw new Error(`${name}: invalid FLAC metadata block type 127 at byte ${off - 4}`);
    }
    off += len;
  }
  if (info === null) throw new Error(`${name}: FLAC stream has no STREAMINFO block`);
  const nCh = info.nChannels;
  // A header's sample count is a claim, not evidence: refuse one the remaining bytes cannot
  // hold, and size the first buffers from the bytes (growing as frames decode), so a corrupt
  // count of 2^36 costs nothing.
  const maxSamples = maxFlacSamples(bytes.length - off, nCh);
  if (info.totalSamples > maxSamples) {
    throw new Error(
      `${name}: FLAC STREAMINFO declares ${info.totalSamples} samples but ${
        bytes.length - off
      } bytes of frames hold at most ${maxSamples}`,
    );
  }
  const byteEstimate = Math.ceil((bytes.length * 8) / (info.bitsPerSample * nCh)) * 2;
  let capacity = info.totalSamples > 0
    ? Math.min(info.totalSamples, Math.max(byteEstimate, 65536))
    : Math.max(info.maxBlockSize, 4096) * 16;
  let chans: Int32Array[] = [];
  for (let c = 0; c < nCh; c++) chans.push(new Int32Array(capacity));
  let nDecoded = 0;
  const maxBlock = 65536;
  const work = [new Int32Array(maxBlock), new Int32Array(maxBlock)];
  const blockBufs: Int32Array[] = [];
  for (let c = 0; c < nCh; c++) blockBufs.push(new Int32Array(maxBlock));
  while (off < bytes.length) {
    // Trailing garbage shorter than a frame header (e.g. zero padding, an ID3v1 tag) is tolerated
    // only at the very end, when every declared sample has been decoded.
    if (info.totalSamples > 0 && nDecoded >= info.totalSamples) break;
    const frameStart = off;
    r.pos = off * 8;
    const blockSize = decodeFrame(r, info, blockBufs, work, name, frameStart);
    if (info.totalSamples > 0 && nDecoded + blockSize > info.totalSamples) {
      throw new Error(
        `${name}: FLAC frame at byte ${frameStart} runs past the ${info.totalSamples} samples declared in STREAMINFO`,
      );
    }
    if (nDecoded + blockSize > capacity) {
      capacity = Math.max(capacity * 2, nDecoded + blockSize);
      chans = chans.map((ch) => {
        const grown = new Int32Array(capacity);
        grown.set(ch.subarray(0, nDecoded));
        return grown;
      });
    }
    for (let c = 0; c < nCh; c++) chans[c].set(blockBufs[c].subarray(0, blockSize), nDecoded);
    nDecoded += blockSize;
    off = r.pos >>> 3;
  }
  if (info.totalSamples > 0 && nDecoded !== info.totalSamples) {
    throw new Error(
      `${name}: truncated FLAC, decoded ${nDecoded} of ${info.totalSamples} samples declared in STREAMINFO`,
    );
  }
  const bps = info.bitsPerSample;
  if ((options.verifyMd5 ?? true) && info.md5.some((b) => b !== 0)) {
    const got = md5OfSamples(chans, nDecoded, bps);
    for (let i = 0; i < 16; i++) {
      if (got[i] !== info.md5[i]) {
        throw new Error(`${name}: FLAC MD5 of decoded samples does not match STREAMINFO`);
      }
    }
  }
  const scale = 1 / 2 ** (bps - 1);
  const channels = chans.map((ch) => {
    const out = new Float32Array(nDecoded);
    for (let i = 0; i < nDecoded; i++) out[i] = ch[i] * scale;
    return out;
  });
  return { sampleRate: info.sampleRate, bitsPerSample: bps, channels };
}

/**
 * The most samples per channel `nBytes` of FLAC frames can hold: every frame takes at least a
 * 6-byte header, one byte per subframe and the 2-byte CRC-16, and holds at most 65536 samples.
 */
export function maxFlacSamples(nBytes: number, nChannels: number): number {
  return Math.floor(Math.max(nBytes, 0) / (8 + nChannels)) * 65536;
}

/** MD5 over interleaved little-endian samples of ceil(bps/8) bytes each, as libFLAC computes it. */
function md5OfSamples(chans: Int32Array[], n: number, bps: number): Uint8Array {
  const bytesPer = (bps + 7) >> 3;
  const nCh = chans.length;
  const buf = new Uint8Array(n * nCh * bytesPer);
  // One channel at a time with a fixed stride keeps the inner loops monomorphic and simple.
  const stride = nCh * bytesPer;
  for (let c = 0; c < nCh; c++) {
    const ch = chans[c];
    let p = c * bytesPer;
    if (bytesPer === 2) {
      for (let i = 0; i < n; i++, p += stride) {
        const v = ch[i];
        buf[p] = v;
        buf[p + 1] = v >> 8;
      }
    } else {
      for (let i = 0; i < n; i++, p += stride) {
        let v = ch[i];
        for (let k = 0; k < bytesPer; k++, v >>= 8) buf[p + k] = v;
      }
    }
  }
  return new Uint8Array(createHash("md5").update(buf).digest());
}

/** Decodes one frame at r.pos into out[c][0..blockSize); returns blockSize and leaves r after the CRC-16. */
function decodeFrame(
  r: BitReader,
  info: StreamInfo,
  out: Int32Array[],
  work: Int32Array[],
  name: string,
  start: number,
): number {
  const b = r.buf;
  if (start + 6 > r.endBits >>> 3) throw new Error(`${name}: truncated FLAC frame header at byte ${start}`);
  if (r.bits(15) !== 0x7ffc) throw new Error(`${name}: lost FLAC frame sync at byte ${start}`);
  r.bits(1); // blocking strategy: the coded number below is skipped either way
  const bsCode = r.bits(4);
  const rateCode = r.bits(4);
  const chanCode = r.bits(4);
  const sizeCode = r.bits(3);
  if (r.bits(1) !== 0) throw new Error(`${name}: reserved bit set in FLAC frame header at byte ${start}`);
  // UTF-8-like coded frame/sample number: only its length matters here.
  const lead = r.bits(8);
  let extra = 0;
  if (lead >= 0xc0) {
    extra = Math.clz32(~(lead << 24)) - 1;
    if (extra > 6) throw new Error(`${name}: bad FLAC coded frame number at byte ${start}`);
  } else if (lead >= 0x80) throw new Error(`${name}: bad FLAC coded frame number at byte ${start}`);
  r.pos += extra * 8;
  let blockSize = BLOCK_SIZES[bsCode];
  if (bsCode === 0) throw new Error(`${name}: reserved FLAC block size code at byte ${start}`);
  if (blockSize === -8) blockSize = r.bits(8) + 1;
  else if (blockSize === -16) blockSize = r.bits(16) + 1;
  if (rateCode === 12) r.bits(8);
  else if (rateCode === 13 || rateCode === 14) r.bits(16);
  else if (rateCode === 15) throw new Error(`${name}: invalid FLAC sample rate code at byte ${start}`);
  const headerEnd = r.pos >>> 3;
  let crc8 = 0;
  for (let i = start; i < headerEnd; i++) crc8 = CRC8[crc8 ^ b[i]];
  if (r.bits(8) !== crc8) throw new Error(`${name}: FLAC frame header CRC-8 mismatch at byte ${start}`);
  if (blockSize > out[0].length) {
    throw new Error(`${name}: FLAC block size ${blockSize} too large at byte ${start}`);
  }
  let bps = SAMPLE_SIZES[sizeCode];
  if (sizeCode === 0) bps = info.bitsPerSample;
  else if (bps === 0) throw new Error(`${name}: reserved FLAC sample size code at byte ${start}`);
  if (bps !== info.bitsPerSample) {
    throw new Error(
      `${name}: FLAC frame at byte ${start} has ${bps} bits, STREAMINFO says ${info.bitsPerSample}`,
    );
  }
  const nCh = chanCode < 8 ? chanCode + 1 : 2;
  if (chanCode > 10) {
    throw new Error(`${name}: reserved FLAC channel assignment ${chanCode} at byte ${start}`);
  }
  if (nCh !== info.nChannels) {
    throw new Error(
      `${name}: FLAC frame at byte ${start} has ${nCh} channels, STREAMINFO says ${info.nChannels}`,
    );
  }
  if (chanCode >= 8 && bps + 1 > 32) {
    throw new Error(`${name}: unsupported 33-bit FLAC side channel at byte ${start}`);
  }
  for (let c = 0; c < nCh; c++) {
    // The side channel carries one extra bit.
    const sideBits = (chanCode === 8 && c === 1) || (chanCode === 9 && c === 0) ||
      (chanCode === 10 && c === 1);
    const dst = nCh === 2 ? work[c] : out[c];
    decodeSubframe(r, dst, blockSize, sideBits ? bps + 1 : bps, name, start);
    if (r.pos > r.endBits) throw new Error(`${name}: truncated FLAC frame at byte ${start}`);
  }
  if (nCh === 2) {
    const a = work[0];
    const s = work[1];
    const l = out[0];
    const rr = out[1];
    if (chanCode === 8) { // left/side
      for (let i = 0; i < blockSize; i++) {
        l[i] = a[i];
        rr[i] = a[i] - s[i];
      }
    } else if (chanCode === 9) { // side/right
      for (let i = 0; i < blockSize; i++) {
        rr[i] = s[i];
        l[i] = a[i] + s[i];
      }
    } else if (chanCode === 10) { // mid/side
      for (let i = 0; i < blockSize; i++) {
        const side = s[i];
        const mid = (a[i] * 2) | (side & 1);
        l[i] = (mid + side) >> 1;
        rr[i] = (mid - side) >> 1;
      }
    } else {
      l.set(a.subarray(0, blockSize));
      rr.set(s.subarray(0, blockSize));
    }
  }
  r.alignToByte();
  const end = r.pos >>> 3;
  if (end + 2 > r.endBits >>> 3) throw new Error(`${name}: truncated FLAC frame at byte ${start}`);
  let crc16 = 0;
  for (let i = start; i < end; i++) crc16 = ((crc16 << 8) & 0xffff) ^ CRC16[(crc16 >>> 8) ^ b[i]];
  if (r.bits(16) !== crc16) throw new Error(`${name}: FLAC frame CRC-16 mismatch at byte ${start}`);
  return blockSize;
}

function decodeSubframe(
  r: BitReader,
  dst: Int32Array,
  n: number,
  bps: number,
  name: string,
  start: number,
): void {
  if (r.bits(1) !== 0) throw new Error(`${name}: FLAC subframe padding bit set in frame at byte ${start}`);
  const type = r.bits(6);
  let wasted = 0;
  if (r.bits(1) === 1) wasted = r.unary() + 1;
  if (wasted >= bps) {
    throw new Error(`${name}: FLAC subframe has ${wasted} wasted bits of ${bps} at byte ${start}`);
  }
  const sbps = bps - wasted;
  if (type === 0) {
    dst.fill(r.signed(sbps), 0, n);
  } else if (type === 1) {
    for (let i = 0; i < n; i++) dst[i] = r.signed(sbps);
  } else if (type >= 8 && type <= 12) {
    const order = type - 8;
    if (order > n) {
      throw new Error(`${name}: FLAC FIXED order ${order} exceeds block size ${n} at byte ${start}`);
    }
    for (let i = 0; i < order; i++) dst[i] = r.signed(sbps);
    decodeResidual(r, dst, n, order, name, start);
    restoreFixed(dst, n, order);
  } else if (type >= 32) {
    const order = type - 31;
    if (order > n) {
      throw new Error(`${name}: FLAC LPC order ${order} exceeds block size ${n} at byte ${start}`);
    }
    for (let i = 0; i < order; i++) dst[i] = r.signed(sbps);
    const precision = r.bits(4) + 1;
    if (precision === 16) throw new Error(`${name}: invalid FLAC LPC precision at byte ${start}`);
    const shift = r.signed(5);
    if (shift < 0) throw new Error(`${name}: negative FLAC LPC shift at byte ${start}`);
    const coefs: number[] = [];
    for (let i = 0; i < order; i++) coefs.push(r.signed(precision));
    decodeResidual(r, dst, n, order, name, start);
    // libFLAC's rule: when bits + precision + ceil(log2(order)) <= 32 no partial sum leaves int32.
    const isInt32Safe = sbps + precision + Math.ceil(Math.log2(order)) <= 32;
    if (isInt32Safe && order <= 12) restoreLpcInt32(dst, n, coefs, shift);
    else restoreLpc(dst, n, coefs, shift);
  } else {
    throw new Error(`${name}: reserved FLAC subframe type ${type} at byte ${start}`);
  }
  if (wasted > 0) {
    for (let i = 0; i < n; i++) dst[i] <<= wasted;
  }
}

/** Reads the Rice-coded residual into dst[order..n). */
function decodeResidual(
  r: BitReader,
  dst: Int32Array,
  n: number,
  order: number,
  name: string,
  start: number,
): void {
  const method = r.bits(2);
  if (method > 1) throw new Error(`${name}: reserved FLAC residual coding method ${method} at byte ${start}`);
  const paramBits = method === 0 ? 4 : 5;
  const escape = method === 0 ? 15 : 31;
  const partOrder = r.bits(4);
  const nParts = 1 << partOrder;
  const perPart = n >>> partOrder;
  if ((n & (nParts - 1)) !== 0 || perPart < order) {
    throw new Error(`${name}: FLAC partition order ${partOrder} invalid for block ${n} at byte ${start}`);
  }
  let i = order;
  for (let p = 0; p < nParts; p++) {
    const end = (p + 1) * perPart;
    const k = r.bits(paramBits);
    if (k === escape) {
      const rawBits = r.bits(5);
      for (; i < end; i++) dst[i] = r.signed(rawBits);
    } else if (k <= 24) {
      r.pos = riceRun(r.buf, r.pos, r.endBits, dst, i, end, k);
      i = end;
    } else {
      // Parameters above 24 bits only occur on pathological input: the slow, general path.
      for (; i < end; i++) {
        const u = (r.unary() << k) | r.bitsLong(k);
        dst[i] = (u >>> 1) ^ -(u & 1);
      }
    }
    if (r.pos > r.endBits) throw new Error(`${name}: truncated FLAC residual at byte ${start}`);
  }
}

/**
 * Decodes Rice codes with parameter k <= 24 into dst[from..to) starting at bit `pos`; returns
 * the new bit position. The bit reads are inlined on local variables because this loop is where
 * decoding spends most of its time: each code is a unary quotient (counted with clz32 on a 32-bit
 * window) followed by k low bits, zigzag-mapped to a signed residual.
 */
function riceRun(
  buf: Uint8Array,
  pos: number,
  endBits: number,
  dst: Int32Array,
  from: number,
  to: number,
  k: number,
): number {
  // Keep the bit position an int32 for the optimiser (a double-typed argument deoptimises this loop).
  pos |= 0;
  k |= 0;
  for (let i = from | 0; i < (to | 0); i++) {
    // Fast path: quotient, stop bit and k low bits all inside one 32-bit window.
    const b0 = pos >>> 3;
    const sh0 = pos & 7;
    const w0 = ((buf[b0] << 24) | (buf[b0 + 1] << 16) | (buf[b0 + 2] << 8) | buf[b0 + 3]) << sh0;
    if (w0 !== 0) {
      const z = Math.clz32(w0);
      if (z + 1 + k <= 32 - sh0) {
        const u = (z << k) | (k === 0 ? 0 : (w0 << (z + 1)) >>> (32 - k));
        pos += z + 1 + k;
        dst[i] = (u >>> 1) ^ -(u & 1);
        continue;
      }
    }
    let q = 0;
    for (;;) {
      const b = pos >>> 3;
      const sh = pos & 7;
      // Signed int32 window (no >>> 0, whose uint32 results would deoptimise); clz32 reads the bits.
      const w = ((buf[b] << 24) | (buf[b + 1] << 16) | (buf[b + 2] << 8) | buf[b + 3]) << sh;
      if (w !== 0) {
        const z = Math.clz32(w);
        q += z;
        pos += z + 1;
        break;
      }
      q += 32 - sh;
      pos += 32 - sh;
      if (pos > endBits) return pos;
    }
    let low = 0;
    if (k > 0) {
      const b = pos >>> 3;
      const w = ((buf[b] << 24) | (buf[b + 1] << 16) | (buf[b + 2] << 8) | buf[b + 3]) << (pos & 7);
      low = w >>> (32 - k);
      pos += k;
    }
    const u = (q << k) | low;
    dst[i] = (u >>> 1) ^ -(u & 1);
  }
  return pos;
}

/**
 * FIXED predictors (orders 0-4, coefficients 1; 2,-1; 3,-3,1; 4,-6,4,-1), unrolled per order. The
 * arithmetic is exact in doubles and the result of a valid stream fits the Int32Array.
 */
function restoreFixed(dst: Int32Array, n: number, order: number): void {
  if (order === 1) {
    for (let i = 1; i < n; i++) dst[i] += dst[i - 1];
  } else if (order === 2) {
    for (let i = 2; i < n; i++) dst[i] += 2 * dst[i - 1] - dst[i - 2];
  } else if (order === 3) {
    for (let i = 3; i < n; i++) dst[i] += 3 * (dst[i - 1] - dst[i - 2]) + dst[i - 3];
  } else if (order === 4) {
    for (let i = 4; i < n; i++) dst[i] += 4 * (dst[i - 1] + dst[i - 3]) - 6 * dst[i - 2] - dst[i - 4];
  }
}

/**
 * restoreLpc for streams whose sums provably fit int32 (16-bit audio with libFLAC's presets):
 * Math.imul products, int32 sums and an arithmetic shift, unrolled for orders up to 12 with
 * zero-padded coefficients.
 */
function restoreLpcInt32(dst: Int32Array, n: number, coefs: number[], shift: number): void {
  const order = coefs.length;
  const head = Math.min(n, 12);
  for (let i = order; i < head; i++) {
    let sum = 0;
    for (let j = 0; j < order; j++) sum = (sum + Math.imul(coefs[j], dst[i - 1 - j])) | 0;
    dst[i] += sum >> shift;
  }
  const c = new Int32Array(12);
  c.set(coefs);
  const [c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11] = c;
  if (order <= 8) {
    for (let i = head; i < n; i++) {
      const sum = (Math.imul(c0, dst[i - 1]) + Math.imul(c1, dst[i - 2]) + Math.imul(c2, dst[i - 3]) +
        Math.imul(c3, dst[i - 4]) + Math.imul(c4, dst[i - 5]) + Math.imul(c5, dst[i - 6]) +
        Math.imul(c6, dst[i - 7]) + Math.imul(c7, dst[i - 8])) | 0;
      dst[i] += sum >> shift;
    }
    return;
  }
  for (let i = head; i < n; i++) {
    const sum = (Math.imul(c0, dst[i - 1]) + Math.imul(c1, dst[i - 2]) + Math.imul(c2, dst[i - 3]) +
      Math.imul(c3, dst[i - 4]) + Math.imul(c4, dst[i - 5]) + Math.imul(c5, dst[i - 6]) +
      Math.imul(c6, dst[i - 7]) + Math.imul(c7, dst[i - 8]) + Math.imul(c8, dst[i - 9]) +
      Math.imul(c9, dst[i - 10]) + Math.imul(c10, dst[i - 11]) + Math.imul(c11, dst[i - 12])) | 0;
    dst[i] += sum >> shift;
  }
}

/** Turns residuals in dst[order..n) into samples: s[i] = res[i] + (sum_j c_j s[i-1-j]) >> shift. */
function restoreLpc(dst: Int32Array, n: number, coefs: number[], shift: number): void {
  const order = coefs.length;
  if (order === 0) return;
  const c = Float64Array.from(coefs);
  // Sums reach ~2^50 for 24-bit audio, past int32, so they are kept in doubles (exact below 2^53)
  // and shifted by an exact multiplication with 2^-shift and a floor (an arithmetic shift).
  const inv = 2 ** -shift;
  // Orders up to 12 (every libFLAC preset) run unrolled with zero-padded coefficients: a few
  // wasted multiplies cost less than the inner loop. The first 12 samples take the general loop.
  const head = order <= 12 ? Math.min(n, 12) : n;
  for (let i = order; i < head; i++) {
    let sum = 0;
    for (let j = 0; j < order; j++) sum += c[j] * dst[i - 1 - j];
    dst[i] += Math.floor(sum * inv);
  }
  if (head >= n) return;
  const [c0, c1, c2, c3, c4, c5, c6, c7] = [
    c[0],
    c[1] ?? 0,
    c[2] ?? 0,
    c[3] ?? 0,
    c[4] ?? 0,
    c[5] ?? 0,
    c[6] ?? 0,
    c[7] ?? 0,
  ];
  if (order <= 8) {
    for (let i = head; i < n; i++) {
      const sum = c0 * dst[i - 1] + c1 * dst[i - 2] + c2 * dst[i - 3] + c3 * dst[i - 4] +
        c4 * dst[i - 5] + c5 * dst[i - 6] + c6 * dst[i - 7] + c7 * dst[i - 8];
      dst[i] += Math.floor(sum * inv);
    }
    return;
  }
  const [c8, c9, c10, c11] = [c[8] ?? 0, c[9] ?? 0, c[10] ?? 0, c[11] ?? 0];
  for (let i = head; i < n; i++) {
    const sum = c0 * dst[i - 1] + c1 * dst[i - 2] + c2 * dst[i - 3] + c3 * dst[i - 4] +
      c4 * dst[i - 5] + c5 * dst[i - 6] + c6 * dst[i - 7] + c7 * dst[i - 8] +
      c8 * dst[i - 9] + c9 * dst[i - 10] + c10 * dst[i - 11] + c11 * dst[i - 12];
    dst[i] += Math.floor(sum * inv);
  }
}

/**
 * Helpers shared by the audio front-end tests: fixture paths, float32 fixture loading and the
 * error measure the feature tests use.
 */
import { fileURLToPath } from "node:url";

/** Absolute path of a file in tests/fixtures/<area>/. */
export function fixturePath(area: "audio" | "features", name: string): string {
  return fileURLToPath(new URL(`../../fixtures/${area}/${name}`, import.meta.url));
}

/** A little-endian float32 fixture file as a Float32Array. */
export function readF32(path: string): Float32Array {
  const bytes = Deno.readFileSync(path);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** One reference case written by tests/fixtures/features/make_features.py. */
export interface FeatureCase {
  name: string;
  shape: [number, number];
  data: Float32Array;
  params: Record<string, unknown>;
}

let cache: Map<string, FeatureCase> | null = null;

/** The reference case called `name` from tests/fixtures/features/cases.json. */
export function featureCase(name: string): FeatureCase {
  if (cache === null) {
    cache = new Map();
    const index = JSON.parse(Deno.readTextFileSync(fixturePath("features", "cases.json")));
    for (const c of index.cases) {
      cache.set(c.name, { ...c, data: readF32(fixturePath("features", c.file)) });
    }
  }
  const c = cache.get(name);
  if (c === undefined) throw new Error(`no feature fixture named ${name}`);
  return c;
}

/**
 * Relative error "relative to max": max_i |got_i - ref_i| / max_i |ref_i|, over the whole matrix.
 * For log features this is measured on the log scale itself (natural log or dB), so a value of
 * 1e-4 means no entry is off by more than 1e-4 of the largest magnitude in the reference.
 */
export function relErrToMax(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (got.length !== ref.length) throw new Error(`length ${got.length} != reference length ${ref.length}`);
  let maxErr = 0;
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(got[i] - ref[i]);
    if (Number.isNaN(e)) return Infinity;
    if (e > maxErr) maxErr = e;
    const a = Math.abs(ref[i]);
    if (a > maxRef) maxRef = a;
  }
  return maxErr / (maxRef === 0 ? 1 : maxRef);
}

/**
 * Public names of `data/`, re-exported by the root mod.ts.
 *
 * @module
 */
export {};
export * from "./safetensors.ts";

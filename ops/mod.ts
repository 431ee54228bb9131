/**
 * Public names of `ops/`, re-exported by the root mod.ts.
 *
 * @module
 */
export {};

/**
 * Public names of `decode/`, re-exported by the root mod.ts.
 *
 * @module
 */
export {};

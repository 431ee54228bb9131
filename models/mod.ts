/**
 * Public names of `models/`, re-exported by the root mod.ts.
 *
 * @module
 */
export {};

/**
 * Public names of `models/`, re-exported by the root mod.ts.
 *
 * @module
 */
export { GRU, LSTM, type RnnOptions, type SequenceLengths } from "./rnn.ts";

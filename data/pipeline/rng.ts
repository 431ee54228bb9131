/**
 * The data pipeline's seeded generator is the toolkit's one generator (ops/random.ts): one
 * algorithm, one state format, whether it draws dropout masks or shuffles an epoch.
 */
export { Rng, type RngState } from "../../ops/random.ts";

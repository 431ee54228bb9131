/** cpu kernel of `reshape`: the output shares the input's array. */
import { registerKernel } from "../../op_registry.ts";

registerKernel("reshape", "cpu", ({ inputs, backend }) => [backend.retain(inputs[0].storage)]);

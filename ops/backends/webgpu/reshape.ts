/** webgpu kernel of `reshape`: the output shares the input's GPU buffer (one more reference). */
import { registerKernel } from "../../engine.ts";

registerKernel("reshape", "webgpu", ({ inputs, backend }) => [backend.retain(inputs[0].storage)]);

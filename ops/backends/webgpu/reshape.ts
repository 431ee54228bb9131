/** webgpu kernel of `reshape`: the output shares the input's GPU buffer (one more reference). */
import { registerKernel } from "../../op_registry.ts";

registerKernel("reshape", "webgpu", ({ inputs, backend }) => [backend.retain(inputs[0].storage)]);

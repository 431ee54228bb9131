/**
 * Registers the cpu backend and its kernels. Each kernel file registers the kernels of one
 * op (family); the file name matches the op's declaration in ops/.
 */
import { registerBackend } from "../../backend_registry.ts";
import { CpuBackend } from "./backend.ts";
import "./map.ts";
import "./reshape.ts";
import "./reduce_sum.ts";
import "./reduce.ts";
import "./permute.ts";
import "./slice.ts";
import "./concat.ts";
import "./pad.ts";
import "./gather.ts";
import "./masks.ts";
import "./dropout.ts";
import "./matmul.ts";
import "./conv1d.ts";
import "./conv2d.ts";
import "./batch_norm.ts";
import "./rnn.ts";
import "./ctc_loss.ts";
import "./cast.ts";

registerBackend("cpu", () => new CpuBackend());

/** Registers every cuda kernel (importing it loads no library: kernels compile at first use). */
import "./map.ts";
import "./reduce.ts";
import "./softmax.ts";
import "./matmul.ts";
import "./reshape.ts";
import "./dropout.ts";
import "./layout.ts";
import "./conv.ts";
import "./gather.ts";
import "./batch_norm.ts";
import "./ctc_loss.ts";
import "./rnn.ts";

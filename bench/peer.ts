/**
 * The other half of every peer comparison: a Python process (PyTorch, librosa, soundfile) that
 * reads one command line on stdin and answers with one line on stdout, so the Deno side can
 * interleave its repetitions with the peer's and both see the same machine load.
 *
 * The peer runs with glibc's malloc kept from returning freed memory to the system
 * (`PEER_MALLOC_ENV`): with the default thresholds, each tensor-sized allocation is a fresh mmap
 * that page-faults on first touch, and on the development VM that made PyTorch's eager
 * elementwise ops alternate between 0.5 and 9 ms (relu(x + b) forward+backward over [8, 256, 400]
 * in a bare loop), so the peer's medians measured the page faults, not the op. A user tuning
 * PyTorch for speed sets the same (or uses jemalloc); a variable already set is left as it is.
 */

/** glibc malloc tunables the peer runs with (the largest mmap threshold glibc allows, 32 MiB). */
export const PEER_MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: String(2 ** 25),
  MALLOC_TRIM_THRESHOLD_: String(2 ** 32),
};

/** A line-protocol peer process. */
export class PeerProcess {
  readonly #name: string;
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: ReadableStreamDefaultReader<string>;
  #pending = "";

  /** Starts `python script ...args`; the interpreter is $REF_PYTHON or /opt/refvenv/bin/python. */
  constructor(script: URL, args: readonly string[] = []) {
    this.#name = script.pathname.split("/").slice(-2).join("/");
    const python = Deno.env.get("REF_PYTHON") ?? Deno.env.get("PYTHON") ?? "/opt/refvenv/bin/python";
    const env = Object.fromEntries(
      Object.entries(PEER_MALLOC_ENV).filter(([name]) => Deno.env.get(name) === undefined),
    );
    this.#child = new Deno.Command(python, {
      args: [script.pathname, ...args],
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#reader = this.#child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** Sends one line. */
  send(line: string): Promise<void> {
    return this.#writer.write(new TextEncoder().encode(line + "\n"));
  }

  /** The next line the peer wrote; an error names the script when it exited first. */
  async readLine(): Promise<string> {
    while (!this.#pending.includes("\n")) {
      const r = await this.#reader.read();
      if (r.done) throw new Error(`${this.#name} exited before answering`);
      this.#pending += r.value;
    }
    const k = this.#pending.indexOf("\n");
    const line = this.#pending.slice(0, k);
    this.#pending = this.#pending.slice(k + 1);
    return line;
  }

  /** Sends a line and returns the answer. */
  async ask(line: string): Promise<string> {
    await this.send(line);
    return this.readLine();
  }

  /** Sends `quitLine` (if any), closes stdin and waits for the process. */
  async close(quitLine: string | null = "quit"): Promise<void> {
    if (quitLine !== null) await this.send(quitLine).catch(() => {});
    await this.#writer.close().catch(() => {});
    await this.#child.status;
  }
}

/** Median of a list (mean of the middle two for even lengths). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

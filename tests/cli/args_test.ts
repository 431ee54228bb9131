import assert from "node:assert/strict";
import { type CommandSpec, type FlagSpecs, formatHelp, parseFlags, UsageError } from "../../cli/args.ts";

const command = {
  name: "tool",
  summary: "A test command.",
  flags: {
    beta: { type: "number", default: 0, help: "word bonus" },
    alpha: { type: "number", min: 0, help: "LM weight" },
    steps: { type: "number", integer: true, min: 1, help: "steps" },
    mode: { type: "string", default: "eval", choices: ["eval", "infer"], help: "mode" },
    lm: { type: "string", help: "LM path" },
    prune: { type: "numbers", min: 0, help: "thresholds" },
    fallback: { type: "numbers", counts: [0, 3], help: "discounts" },
    greedy: { type: "boolean", help: "greedy" },
  },
  allowOverrides: true,
} as const satisfies CommandSpec<FlagSpecs>;

Deno.test("parseFlags() reads --flag value and --flag=value alike, negative numbers included", () => {
  for (const argv of [["--beta", "-1"], ["--beta=-1"]]) {
    assert.equal(parseFlags(argv, command).values.beta, -1, argv.join(" "));
  }
  const { values } = parseFlags(["--mode", "infer", "--lm=a,b.bin", "--greedy", "--steps", "3"], command);
  assert.deepEqual(
    { mode: values.mode, lm: values.lm, greedy: values.greedy, steps: values.steps, alpha: values.alpha },
    { mode: "infer", lm: "a,b.bin", greedy: true, steps: 3, alpha: undefined },
  );
  assert.equal(parseFlags([], command).values.beta, 0);
});

Deno.test("parseFlags() rejects bad numbers, ranges, integers and choices, naming the flag", () => {
  const cases: [string[], RegExp][] = [
    [["--alpha", "abc"], /--alpha must be a number >= 0, got "abc"/],
    [["--alpha=-1"], /--alpha must be a number >= 0, got -1/],
    [["--steps", "2.5"], /--steps must be an integer >= 1/],
    [["--steps", "0"], /--steps must be an integer >= 1/],
    [["--mode", "bogus"], /--mode must be one of eval, infer, got "bogus"/],
    [["--alpha"], /--alpha needs a value/],
    [["--nope", "1"], /unknown flag --nope/],
    [["stray"], /unexpected argument "stray"/],
    [["--greedy=maybe"], /--greedy takes no value/],
    [["--beta", "1", "--beta", "2"], /--beta given twice/],
    [["--fallback", "1", "2"], /--fallback takes 0 or 3 numbers, got 2/],
    [["--section.key"], /--section\.key needs a value/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(
      () => parseFlags(argv, command),
      (e: Error) => e instanceof UsageError && message.test(e.message),
    );
  }
});

Deno.test("parseFlags() takes number lists, collects dotted overrides in order and spots --help", () => {
  const p = parseFlags(["--prune", "0", "1", "1", "--training.maxSteps=5", "--lrPolicy.lr", "-1"], command);
  assert.deepEqual(p.values.prune, [0, 1, 1]);
  assert.deepEqual(p.overrides, [{ key: "training.maxSteps", value: "5" }, {
    key: "lrPolicy.lr",
    value: "-1",
  }]);
  assert.deepEqual(parseFlags(["--fallback"], command).values.fallback, []);
  assert.equal(parseFlags(["--alpha", "abc", "--help"], command).isHelp, true);
  assert.equal(parseFlags(["-h"], command).isHelp, true);
});

Deno.test("formatHelp() lists every flag with its default, range and choices", () => {
  const help = formatHelp(command);
  for (const name of Object.keys(command.flags)) assert.match(help, new RegExp(`--${name}\\b`));
  assert.match(help, /--mode eval\|infer .*\(default eval\)/);
  assert.match(help, /--steps N .*>= 1/);
  assert.match(help, /--section\.key=VALUE/);
});

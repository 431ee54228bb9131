/**
 * The one argument convention of every script in scripts/: typed flag specs (name, type,
 * default, range or choices, help) from which both the parser and the `--help` text come.
 *
 * Contract:
 * - `--flag value` and `--flag=value` are the same, also when the value starts with "-"
 *   (`--beta -1`); booleans take no value (`--flag`, or `--flag=true|false`).
 * - Every value is checked against its spec (number, integer, range, choices); an unknown flag,
 *   a missing or bad value is a `UsageError`, which `runCommand` prints as one line and exits 2.
 * - `--help` / `-h` print the generated help and exit 0.
 * - With `allowOverrides`, dotted flags (`--section.key=value`, `--section.key value`) are
 *   collected in order for the caller to apply (cli/config_overrides.ts for train.ts).
 * - Any other error thrown by the command is printed as `<command>: error: <message>`, exit 1,
 *   without a stack trace.
 *
 * Not here: what a command does with its values; config semantics (cli/config_overrides.ts).
 */

/** A flag that takes one string, optionally one of fixed choices. */
export interface StringFlag {
  /** Kind of value. */
  type: "string";
  /** One line for --help. */
  help: string;
  /** Value when the flag is absent. */
  default?: string;
  /** The only values accepted. */
  choices?: readonly string[];
  /** Name of the value in --help ("PATH", "CSV"). */
  valueName?: string;
  /** One-letter alias (`-o`). */
  short?: string;
}

/** A flag that takes one finite number, optionally an integer in a range. */
export interface NumberFlag {
  /** Kind of value. */
  type: "number";
  /** One line for --help. */
  help: string;
  /** Value when the flag is absent. */
  default?: number;
  /** Whether only integers are accepted. */
  integer?: boolean;
  /** Smallest accepted value (inclusive). */
  min?: number;
  /** Largest accepted value (inclusive). */
  max?: number;
  /** Whether `min` itself is excluded (a learning rate must be > 0). */
  exclusiveMin?: boolean;
  /** Name of the value in --help. */
  valueName?: string;
  /** One-letter alias (`-o`). */
  short?: string;
}

/** A flag followed by zero or more numbers (`--prune 0 1 1`). */
export interface NumberListFlag {
  /** Kind of value. */
  type: "numbers";
  /** One line for --help. */
  help: string;
  /** How many numbers are accepted (`[0, 3]`); any count when absent. */
  counts?: readonly number[];
  /** Smallest accepted value of each number (inclusive). */
  min?: number;
  /** One-letter alias. */
  short?: string;
}

/** A switch without a value. */
export interface BooleanFlag {
  /** Kind of value. */
  type: "boolean";
  /** One line for --help. */
  help: string;
  /** One-letter alias. */
  short?: string;
}

/** Any flag spec. */
export type FlagSpec = StringFlag | NumberFlag | NumberListFlag | BooleanFlag;

/** Flag specs by flag name (the name as typed after `--`). */
export type FlagSpecs = Record<string, FlagSpec>;

/** The value type of one spec. */
type ValueOf<F extends FlagSpec> = F extends NumberFlag ? number
  : F extends NumberListFlag ? number[]
  : F extends BooleanFlag ? boolean
  : string;

/** Parsed values: booleans and flags with a default are always present, the others may be absent. */
export type FlagValues<S extends FlagSpecs> = {
  [K in keyof S]: S[K] extends BooleanFlag ? boolean
    : S[K] extends { default: string | number } ? ValueOf<S[K]>
    : ValueOf<S[K]> | undefined;
};

/** A command: its name, what it does, its flags and its positional arguments. */
export interface CommandSpec<S extends FlagSpecs> {
  /** How the command is started (`deno task train`), for usage and error lines. */
  name: string;
  /** One paragraph for --help. */
  summary: string;
  /** The flags. */
  flags: S;
  /** Positional arguments, when the command takes any: their name in --help and the least count. */
  positionals?: { name: string; min: number };
  /** Whether dotted `--section.key=value` flags are collected as overrides. */
  allowOverrides?: boolean;
  /** Example command lines for --help. */
  examples?: readonly string[];
}

/** One `--section.key=value` as typed, in order. */
export interface FlagOverride {
  /** The dotted key without the dashes ("training.maxSteps"). */
  key: string;
  /** The raw value. */
  value: string;
}

/** What `parseFlags` returns. */
export interface ParsedArgs<S extends FlagSpecs> {
  /** Checked values by flag name. */
  values: FlagValues<S>;
  /** Positional arguments in order. */
  positionals: string[];
  /** Dotted overrides in order (only with `allowOverrides`). */
  overrides: FlagOverride[];
  /** Whether --help or -h was given (the other flags are then not checked). */
  isHelp: boolean;
}

/** A command-line mistake: printed as one line with exit status 2. */
export class UsageError extends Error {
  /** @param message what is wrong, naming the flag */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

function describeRange(spec: NumberFlag): string {
  const parts: string[] = [];
  if (spec.integer) parts.push("an integer");
  else parts.push("a number");
  if (spec.min !== undefined && spec.max !== undefined) {
    parts.push(`in ${spec.exclusiveMin ? "(" : "["}${spec.min}, ${spec.max}]`);
  } else if (spec.min !== undefined) parts.push(`${spec.exclusiveMin ? ">" : ">="} ${spec.min}`);
  else if (spec.max !== undefined) parts.push(`<= ${spec.max}`);
  return parts.join(" ");
}

/**
 * Checks one number against a spec's type and range; returns the number or throws a
 * `UsageError` naming `what` (a flag or config key).
 */
export function checkNumber(text: string, spec: Omit<NumberFlag, "type" | "help">, what: string): number {
  const x = text.trim() === "" ? NaN : Number(text);
  const full = { type: "number" as const, help: "", ...spec };
  if (!Number.isFinite(x)) throw new UsageError(`${what} must be ${describeRange(full)}, got "${text}"`);
  const isBelow = spec.min !== undefined && (spec.exclusiveMin ? x <= spec.min : x < spec.min);
  const isAbove = spec.max !== undefined && x > spec.max;
  if ((spec.integer && !Number.isInteger(x)) || isBelow || isAbove) {
    throw new UsageError(`${what} must be ${describeRange(full)}, got ${text}`);
  }
  return x;
}

function isNumberText(s: string): boolean {
  return s.trim() !== "" && Number.isFinite(Number(s));
}

/**
 * Parses `argv` against a command's flags. Throws `UsageError` on any mistake.
 *
 * @example
 * ```ts
 * const { values } = parseFlags(["--beta", "-1"], {
 *   name: "demo",
 *   summary: "",
 *   flags: { beta: { type: "number", default: 0, help: "word bonus" } },
 * });
 * // values.beta === -1
 * ```
 */
export function parseFlags<S extends FlagSpecs>(
  argv: readonly string[],
  command: CommandSpec<S>,
): ParsedArgs<S> {
  const specs = command.flags as FlagSpecs;
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) if (spec.short) byShort.set(spec.short, name);
  if (argv.includes("--help") || argv.includes("-h")) {
    return { values: {} as FlagValues<S>, positionals: [], overrides: [], isHelp: true };
  }
  const raw = new Map<string, string | number[] | boolean>();
  const positionals: string[] = [];
  const overrides: FlagOverride[] = [];
  let isOnlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (isOnlyPositionals || !arg.startsWith("-") || arg === "-" || isNumberText(arg)) {
      if (!command.positionals) throw new UsageError(`unexpected argument "${arg}"`);
      positionals.push(arg);
      continue;
    }
    if (arg === "--") {
      isOnlyPositionals = true;
      continue;
    }
    const eq = arg.indexOf("=");
    let name = arg.startsWith("--")
      ? arg.slice(2, eq < 0 ? undefined : eq)
      : arg.slice(1, eq < 0 ? undefined : eq);
    if (!arg.startsWith("--")) {
      const long = byShort.get(name);
      if (!long) throw new UsageError(`unknown flag ${arg}`);
      name = long;
    }
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    const takeValue = (): string => {
      if (inline !== undefined) return inline;
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
      return argv[++i];
    };
    if (command.allowOverrides && name.includes(".")) {
      overrides.push({ key: name, value: takeValue() });
      continue;
    }
    const spec = specs[name];
    if (!spec) {
      const known = Object.keys(specs).map((k) => `--${k}`).join(", ");
      throw new UsageError(
        `unknown flag --${name} (known: ${known}${command.allowOverrides ? ", --section.key=value" : ""})`,
      );
    }
    if (raw.has(name) && spec.type !== "numbers") throw new UsageError(`--${name} given twice`);
    if (spec.type === "boolean") {
      if (inline !== undefined && inline !== "true" && inline !== "false") {
        throw new UsageError(`--${name} takes no value (or =true, =false), got "${inline}"`);
      }
      raw.set(name, inline !== "false");
    } else if (spec.type === "numbers") {
      const list: number[] = [];
      if (inline !== undefined) list.push(...inline.split(",").map((s) => checkNumber(s, spec, `--${name}`)));
      else {
        while (i + 1 < argv.length && isNumberText(argv[i + 1])) {
          list.push(checkNumber(argv[++i], spec, `--${name}`));
        }
      }
      if (spec.counts && !spec.counts.includes(list.length)) {
        throw new UsageError(`--${name} takes ${spec.counts.join(" or ")} numbers, got ${list.length}`);
      }
      raw.set(name, list);
    } else raw.set(name, takeValue());
  }
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const given = raw.get(name);
    if (spec.type === "boolean") values[name] = given === true;
    else if (spec.type === "numbers") values[name] = given;
    else if (given === undefined) values[name] = spec.default;
    else if (spec.type === "number") values[name] = checkNumber(given as string, spec, `--${name}`);
    else {
      const s = given as string;
      if (spec.choices && !spec.choices.includes(s)) {
        throw new UsageError(`--${name} must be one of ${spec.choices.join(", ")}, got "${s}"`);
      }
      values[name] = s;
    }
  }
  if (command.positionals && positionals.length < command.positionals.min) {
    throw new UsageError(
      `expected at least ${command.positionals.min} ${command.positionals.name} argument(s)`,
    );
  }
  return { values: values as FlagValues<S>, positionals, overrides, isHelp: false };
}

function flagLine(name: string, spec: FlagSpec): string {
  const short = spec.short ? `-${spec.short}, ` : "";
  let left = `  ${short}--${name}`;
  let detail = "";
  if (spec.type === "string") {
    left += ` ${spec.choices ? spec.choices.join("|") : spec.valueName ?? "TEXT"}`;
    if (spec.default !== undefined) detail = ` (default ${spec.default === "" ? '""' : spec.default})`;
  } else if (spec.type === "number") {
    left += ` ${spec.valueName ?? (spec.integer ? "N" : "X")}`;
    const range = describeRange(spec).replace(/^an? (integer|number) ?/, "");
    detail = [spec.default !== undefined ? `default ${spec.default}` : "", range].filter((s) => s).join(", ");
    if (detail) detail = ` (${detail})`;
  } else if (spec.type === "numbers") {
    left += " X...";
    if (spec.counts) detail = ` (${spec.counts.join(" or ")} numbers)`;
  }
  return `${left.padEnd(34)} ${spec.help}${detail}`;
}

/** The --help text of a command, generated from its specs. */
export function formatHelp<S extends FlagSpecs>(command: CommandSpec<S>): string {
  const pos = command.positionals ? ` ${command.positionals.name}...` : "";
  const lines = [`Usage: ${command.name} [flags]${pos}`, "", command.summary, "", "Flags:"];
  for (const [name, spec] of Object.entries(command.flags as FlagSpecs)) lines.push(flagLine(name, spec));
  if (command.allowOverrides) {
    lines.push(
      `${"  --section.key=VALUE".padEnd(34)} override a config field (e.g. --training.maxSteps=500)`,
    );
  }
  lines.push(`${"  -h, --help".padEnd(34)} print this help and exit`);
  if (command.examples?.length) lines.push("", "Examples:", ...command.examples.map((e) => `  ${e}`));
  return lines.join("\n");
}

/**
 * Runs a script's `main` with the convention above: parses `args` (default `Deno.args`),
 * answers --help, turns a `UsageError` into one line and exit 2, and any other error into
 * `<name>: error: <message>` and exit 1; `main`'s return value (default 0) is the exit status.
 */
export async function runCommand<S extends FlagSpecs>(
  command: CommandSpec<S>,
  main: (args: ParsedArgs<S>) => Promise<number | void> | number | void,
  args: readonly string[] = Deno.args,
): Promise<never> {
  let code: number;
  try {
    const parsed = parseFlags(args, command);
    if (parsed.isHelp) {
      console.log(formatHelp(command));
      Deno.exit(0);
    }
    code = (await main(parsed)) ?? 0;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof UsageError) {
      console.error(`${command.name}: ${message} (see --help)`);
      Deno.exit(2);
    }
    console.error(`${command.name}: error: ${message}`);
    Deno.exit(1);
  }
  Deno.exit(code);
}

/**
 * Generated accents for espeak-ng: voice files that recombine what the training voices
 * already vary (phoneme table, letter-to-sound rule sets, rhythm, phoneme replacements) and
 * add vowel shifts and formant scaling drawn at random, so a model trained on them hears many
 * more "accents" than espeak-ng's eight English voices.
 *
 * Why: a model trained on five espeak-ng accents generalises poorly to the other three (their
 * vowels sound different: BENCHMARKS.md, "Where the errors come from"). Real accents differ
 * mostly by where vowels sit in the vowel space and by which vowel a word takes; the shifts
 * here move a vowel to a neighbour in the vowel space, which is that kind of change, drawn
 * blind rather than copied from any held-out voice. Nothing here uses the held-out voices'
 * phoneme tables (en-n, en-wm, en-us-nyc) or their replacement rules.
 *
 * espeak-ng reads voice files from `<path>/espeak-ng-data/voices/`, and `--path` can point it
 * at another data folder: {@link prepareEspeakData} makes one that links to the system's data
 * and adds the generated voices, so nothing is written outside the output folder.
 */
import { dirname, join } from "node:path";
import { Rng } from "../pipeline/rng.ts";

/** The folder under `voices/` that generated accents live in; their names are `<folder>/<name>`. */
export const ACCENT_FOLDER = "accents";

/** Phoneme tables of the training voices: en (default), en-us, en-sc, en-rp, en-wi. */
const TRAINING_PHONEME_TABLES = ["", "en-us", "en-sc", "en-rp", "en-wi"];
/** Letter-to-sound rule sets the training voices switch on (en-US 3 6, Scotland 2 5 6 7, Caribbean 8). */
const TRAINING_DICTRULES = [2, 3, 5, 6, 7, 8];
/** Rhythm (stressLength) lines of the training voices. */
const TRAINING_STRESS_LENGTHS = [
  "",
  "140 120 190 170 0 0 255 300",
  "180 130 200 200 0 0 250 270",
  "175 175 175 175 220 220 250 290",
];
/** Replacement rules of the training voices (en-US, Scotland, RP, Caribbean). */
const TRAINING_REPLACEMENTS = [
  "03 I i",
  "03 I2 i",
  "03 @ V",
  "01 aI aI2",
  "02 a a/",
  "02 u: U",
  "00 o@ O@",
  "03 @ a#",
  "03 3 a#",
  "00 D d",
  "00 T t[",
  "00 U@ o@",
  "03 N n",
];
/**
 * English vowels in rows of neighbours in the vowel space (close to open, front to back);
 * a shift moves a vowel one step along its row.
 */
const VOWEL_ROWS = [
  ["i:", "i", "I", "E", "a", "aa"],
  ["@", "a#", "3", "V"],
  ["u:", "U", "O:", "0", "A:"],
  ["eI", "aI", "OI"],
  ["oU", "aU"],
  ["i@", "e@", "A@", "O@", "o@", "U@"],
];

/** One generated accent: its name and the text of its espeak-ng voice file. */
export interface AccentVoice {
  /** Voice name as given to `espeak-ng -v`, e.g. "accents/a07". */
  name: string;
  /** The voice file's text. */
  text: string;
}

/** The name of accent `index` of `count`, e.g. "accents/a07". */
export function accentName(index: number, count: number): string {
  return `${ACCENT_FOLDER}/a${String(index).padStart(Math.max(2, String(count - 1).length), "0")}`;
}

/** Options of {@link generateAccents}. */
export interface AccentOptions {
  /** How many accents. */
  count: number;
  /** Seed; the same seed and count give the same files. */
  seed: number;
}

/**
 * Draws `count` accent voice files. Each takes a training voice's phoneme table, a random
 * subset of the training voices' rule sets, a rhythm, 0-3 of their replacement rules, 2-5
 * vowel shifts and a scaling of the first three formants by 0.92-1.08.
 *
 * @example
 * ```ts
 * const [first] = generateAccents({ count: 40, seed: 7 });
 * console.log(first.name); // "accents/a00"
 * ```
 */
export function generateAccents(options: AccentOptions): AccentVoice[] {
  const rng = new Rng(options.seed);
  return Array.from({ length: options.count }, (_, k) => {
    const name = accentName(k, options.count);
    const lines = [`name generated ${name}`, "language en 20"];
    const table = rng.choice(TRAINING_PHONEME_TABLES);
    if (table) lines.push(`phonemes ${table}`);
    const rules = TRAINING_DICTRULES.filter(() => rng.uniform() < 0.35);
    if (rules.length > 0) lines.push(`dictrules ${rules.join(" ")}`);
    const rhythm = rng.choice(TRAINING_STRESS_LENGTHS);
    if (rhythm) lines.push(`stressLength ${rhythm}`);
    const replacements = new Map<string, string>();
    for (let i = rng.int(4); i > 0; i--) {
      const [flags, from, to] = rng.choice(TRAINING_REPLACEMENTS).split(" ");
      replacements.set(from, `${flags} ${from} ${to}`);
    }
    for (let i = 2 + rng.int(4); i > 0; i--) {
      const row = rng.choice(VOWEL_ROWS);
      const at = rng.int(row.length);
      const to = at === 0 ? 1 : at === row.length - 1 ? at - 1 : at + (rng.uniform() < 0.5 ? -1 : 1);
      // Flags 00: everywhere; 02: unstressed syllables only.
      replacements.set(row[at], `${rng.uniform() < 0.7 ? "00" : "02"} ${row[at]} ${row[to]}`);
    }
    for (const rule of replacements.values()) lines.push(`replace ${rule}`);
    for (const formant of [1, 2, 3]) {
      lines.push(`formant ${formant} ${Math.round(92 + 16 * rng.uniform())} 100 100`);
    }
    return { name, text: lines.join("\n") + "\n" };
  });
}

/** The system's espeak-ng data folder, from `espeak-ng --version` ("Data at: ..."). */
export function espeakDataDir(espeak = "espeak-ng"): string {
  const out = new Deno.Command(espeak, { args: ["--version"], stdout: "piped", stderr: "null" }).outputSync();
  const match = new TextDecoder().decode(out.stdout).match(/Data at:\s*(\S+)/);
  if (!out.success || !match) {
    throw new Error(`data/synth_accents.ts: ${espeak} --version does not say where its data is`);
  }
  return match[1];
}

/**
 * Makes `<dir>/espeak-ng-data`: links to every entry of the system's data folder, a `voices`
 * folder that links the system's variants (`!v`), and the generated accents in
 * `voices/accents/`. Returns `dir`, for `espeak-ng --path=<dir>`. Rewrites the accent files, so
 * a folder made by another seed is brought up to date.
 */
export function prepareEspeakData(
  dir: string,
  accents: readonly AccentVoice[],
  espeak = "espeak-ng",
): string {
  const system = espeakDataDir(espeak);
  const data = join(dir, "espeak-ng-data");
  Deno.mkdirSync(join(data, "voices", ACCENT_FOLDER), { recursive: true });
  const link = (target: string, path: string) => {
    try {
      Deno.lstatSync(path);
    } catch {
      Deno.symlinkSync(target, path);
    }
  };
  for (const entry of Deno.readDirSync(system)) {
    if (entry.name !== "voices") link(join(system, entry.name), join(data, entry.name));
  }
  link(join(system, "voices", "!v"), join(data, "voices", "!v"));
  for (const accent of accents) {
    const path = join(data, "voices", accent.name);
    Deno.mkdirSync(dirname(path), { recursive: true });
    Deno.writeTextFileSync(path, accent.text);
  }
  return dir;
}

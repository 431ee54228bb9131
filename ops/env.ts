/**
 * Environment variables the toolkit reads for its settings (DENO_CTC_*, OPENBLAS_*), read so
 * that a program run without --allow-env behaves as if they were unset instead of failing.
 */

/** The variable's value, or undefined when it is unset or env access is not granted. */
export function envGet(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

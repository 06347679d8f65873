/** Command-line options of the bench scripts: `--name=value`, or `--name` alone (an empty string). */

/** The script's own arguments. */
export const argv: readonly string[] = process.argv.slice(2);

/** The value of `--name=value`, '' for a bare `--name`, undefined when absent. */
export function option(name: string): string | undefined {
  return argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))?.split('=').slice(1).join('=') ?? (argv.includes(`--${name}`) ? '' : undefined);
}

/** A positive number option, or `fallback` when absent or bare; anything else is refused, naming the option. */
export function positiveOption(name: string, fallback: number): number {
  const v = option(name);
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${v}`);
  return n;
}

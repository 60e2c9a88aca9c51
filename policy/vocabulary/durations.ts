/**
 * Durations as settings write them (`30m`, `1h30m`, `45s`, `2d`, `0`): one grammar for the
 * promotion soak and the advisory exceptions' lifetimes. Units from days down to seconds,
 * each at most once, largest first, as Go's time.ParseDuration and Kargo's soak read them
 * (plus days, which soaks and exceptions are often counted in).
 */

const GRAMMAR = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

const UNITS: readonly [string, number][] = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1_000],
];

/** What a duration setting must look like, for error messages. */
export const DURATION_HINT = 'a duration such as "30m", "1h30m", "45s" or "2d" (or "0" for none)';

/** Milliseconds, or undefined when `text` is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (text === "0") return 0;
  const m = GRAMMAR.exec(text);
  if (m === null || text === "") return undefined;
  let total = 0;
  UNITS.forEach(([, ms], i) => {
    if (m[i + 1] !== undefined) total += Number(m[i + 1]) * ms;
  });
  return total;
}

/** `5400000` -> `1h30m`; whole seconds, largest units first; `0s` for nothing. */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.floor(ms / 1000)) * 1000;
  let out = "";
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out === "" ? "0s" : out;
}

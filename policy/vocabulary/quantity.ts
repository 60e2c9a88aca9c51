/**
 * Kubernetes resource quantities (`250m`, `1`, `512Mi`, `1e3`): one grammar for the settings
 * that validate them and the policy pack that compares a limit with its request (K11).
 *
 * A quantity is a non-negative decimal number and one suffix: a decimal SI prefix (`m`, `k`,
 * `M`, ... `E`), a binary one (`Ki` ... `Ei`) or a decimal exponent (`e3`, `E-2`). The value is
 * computed as the decimal string `<number>e<exponent>` times a power of two, so `0.3` and
 * `300m` parse to the very same number and comparisons never depend on rounding.
 */

const GRAMMAR = /^(\d+(?:\.\d+)?|\.\d+)(?:([eE][-+]?\d+)|(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/;

/** Decimal exponents of the decimal SI suffixes. */
const DECIMAL_SUFFIXES: Readonly<Record<string, number>> = {
  "": 0,
  m: -3,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};

/** Binary exponents of the binary SI suffixes. */
const BINARY_SUFFIXES: Readonly<Record<string, number>> = {
  Ki: 10,
  Mi: 20,
  Gi: 30,
  Ti: 40,
  Pi: 50,
  Ei: 60,
};

/** Every suffix a quantity may carry besides a decimal exponent. */
export const QUANTITY_SUFFIXES: readonly string[] = [
  ...Object.keys(DECIMAL_SUFFIXES),
  ...Object.keys(BINARY_SUFFIXES),
];

/** Suffixes a CPU quantity may carry in pyfleet settings: cores or millicores. */
export const CPU_SUFFIXES: readonly string[] = ["", "m"];

interface Parts {
  digits: string;
  decimalExponent: number;
  binaryExponent: number;
  suffix: string;
}

function parts(text: string): Parts | undefined {
  const match = GRAMMAR.exec(text);
  if (!match) return undefined;
  const digits = match[1] ?? "";
  if (match[2] !== undefined) {
    return { digits, decimalExponent: Number(match[2].slice(1)), binaryExponent: 0, suffix: "e" };
  }
  const suffix = match[3] ?? "";
  return {
    digits,
    decimalExponent: DECIMAL_SUFFIXES[suffix] ?? 0,
    binaryExponent: BINARY_SUFFIXES[suffix] ?? 0,
    suffix,
  };
}

/** The value of `p` times 10^scale, rounded once from its decimal text. */
function valueOf(p: Parts, scale = 0): number {
  return Number(`${p.digits}e${p.decimalExponent + scale}`) * 2 ** p.binaryExponent;
}

/** A quantity's value, from its text or a plain number; undefined when it does not parse. */
export function quantityValue(value: string | number): number | undefined {
  if (typeof value === "number") return value;
  const p = parts(value);
  return p === undefined ? undefined : valueOf(p);
}

/**
 * K11: whether a limit is below its request; undefined when either does not parse (the
 * grammar is judged on its own).
 */
export function limitBelowRequest(
  limit: string | number,
  request: string | number,
): boolean | undefined {
  const limited = quantityValue(limit);
  const requested = quantityValue(request);
  return limited === undefined || requested === undefined ? undefined : limited < requested;
}

/** True when `value` is a CPU quantity such as `250m`, `1` or `0.5`. */
export function isCpuQuantity(value: string): boolean {
  const p = parts(value);
  return p !== undefined && CPU_SUFFIXES.includes(p.suffix);
}

/** True when `value` is a memory quantity such as `512Mi`, `2Gi` or `1G` (no millibytes). */
export function isMemoryQuantity(value: string): boolean {
  const p = parts(value);
  return p !== undefined && p.suffix !== "m";
}

/** CPU quantity in millicores. Throws on an invalid quantity. */
export function cpuMillis(value: string): number {
  const p = isCpuQuantity(value) ? parts(value) : undefined;
  if (p === undefined) {
    throw new Error(`invalid CPU quantity "${value}" (expected e.g. "250m" or "1")`);
  }
  return valueOf(p, 3);
}

/** Memory quantity in bytes. Throws on an invalid quantity. */
export function memoryBytes(value: string): number {
  const p = isMemoryQuantity(value) ? parts(value) : undefined;
  if (p === undefined) {
    throw new Error(`invalid memory quantity "${value}" (expected e.g. "512Mi" or "2Gi")`);
  }
  return valueOf(p);
}

/**
 * Kubernetes resource quantities, parsed just enough to validate them and compare a limit
 * with its request. Pure: no Pulumi, no I/O.
 */

const CPU_PATTERN = /^(?:\d+(?:\.\d+)?|\.\d+)m?$/;
const MEMORY_PATTERN = /^(?:\d+(?:\.\d+)?|\.\d+)(?:Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;

const MEMORY_FACTORS: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** True when `value` is a CPU quantity such as `250m`, `1` or `0.5`. */
export function isCpuQuantity(value: string): boolean {
  return CPU_PATTERN.test(value);
}

/** True when `value` is a memory quantity such as `512Mi`, `2Gi` or `1G`. */
export function isMemoryQuantity(value: string): boolean {
  return MEMORY_PATTERN.test(value);
}

/** CPU quantity in millicores. Throws on an invalid quantity. */
export function cpuMillis(value: string): number {
  if (!isCpuQuantity(value)) {
    throw new Error(`invalid CPU quantity "${value}" (expected e.g. "250m" or "1")`);
  }
  return value.endsWith("m") ? Number(value.slice(0, -1)) : Number(value) * 1000;
}

/** Memory quantity in bytes. Throws on an invalid quantity. */
export function memoryBytes(value: string): number {
  const match = /^((?:\d+(?:\.\d+)?|\.\d+))([A-Za-z]*)$/.exec(value);
  const factor = match ? MEMORY_FACTORS[match[2] ?? ""] : undefined;
  if (!match || factor === undefined || !isMemoryQuantity(value)) {
    throw new Error(`invalid memory quantity "${value}" (expected e.g. "512Mi" or "2Gi")`);
  }
  return Number(match[1]) * factor;
}

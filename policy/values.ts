/**
 * How the policies read resource inputs: as plain JSON in which every value Pulumi cannot know
 * during preview is the {@link UNKNOWN} marker.
 *
 * `@pulumi/policy` 1.21 has no `isUnknown` on its arguments. It hands a policy the inputs wrapped
 * in a proxy that throws `UnknownValueError` when a value that is unknown during preview is read
 * (on the wire such a value is one of the engine's sentinel strings below), and the runtime turns
 * an uncaught `UnknownValueError` into a single advisory "can't run policy during preview" note,
 * skipping every later check of that policy on that resource. {@link plain} reads the inputs once,
 * catching the error per value, so one unknown image does not hide a privileged container next to
 * it, and the checks stay pure functions over plain data. A check reports only what the known
 * values prove: an unknown value never fails it.
 */
import { UnknownValueError } from "@pulumi/policy";

/** Stands for a value that is unknown during preview. */
export const UNKNOWN: unique symbol = Symbol("unknown during preview");

/**
 * The engine's sentinels for unknown values (string, boolean, number, array, asset, archive,
 * object), as `@pulumi/policy`'s proxy recognises them; the first is `@pulumi/pulumi`'s
 * `runtime.unknownValue`.
 */
export const UNKNOWN_SENTINELS: readonly string[] = [
  "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
  "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
  "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
  "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
  "030794c1-ac77-496b-92df-f27374a8bd58",
  "e48ece36-62e2-4504-bad9-02848725956a",
  "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
];

const SENTINELS = new Set(UNKNOWN_SENTINELS);

/** True for {@link UNKNOWN} and for a raw engine sentinel. */
export function isUnknown(value: unknown): boolean {
  return value === UNKNOWN || (typeof value === "string" && SENTINELS.has(value));
}

/**
 * A plain copy of `value` (resource inputs as the policy runtime hands them over, proxied or
 * not) in which every unknown value is {@link UNKNOWN}.
 */
export function plain(value: unknown): unknown {
  if (isUnknown(value)) return UNKNOWN;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) out.push(read(value as unknown[], i));
    return out;
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) out[key] = read(value, key);
    return out;
  }
  return value;
}

function read(container: object, key: string | number): unknown {
  try {
    return plain((container as Record<string | number, unknown>)[key]);
  } catch (error) {
    if (error instanceof UnknownValueError) return UNKNOWN;
    throw error;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * The value at `path` below `value`: {@link UNKNOWN} as soon as a step is unknown, `undefined`
 * when a step is missing or not an object.
 */
export function at(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (isUnknown(current)) return UNKNOWN;
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return isUnknown(current) ? UNKNOWN : current;
}

/** `value` as an object when it is a known, non-array object. */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** `value` as an array when it is a known array. */
export function asArray(value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

/** `value` when it is a known string. */
export function asString(value: unknown): string | undefined {
  return typeof value === "string" && !isUnknown(value) ? value : undefined;
}

/** `value` when it is a known finite number. */
export function asNumber(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

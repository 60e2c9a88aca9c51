/**
 * The local engine's settings: an untracked `Pulumi.<stack>.local.yaml` beside the committed
 * stack file, written by the quick start (local registry, builder, base images, wheelhouse).
 * Every command reads it on top of the committed file, so the quick start, `preview`, `up`,
 * `render`, `promote` and `validate` all run one configuration and the tracked files stay clean.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";

/** The local settings file of a stack, relative to the project root. */
export function localSettingsFile(stack: string): string {
  return `Pulumi.${stack}.local.yaml`;
}

/**
 * Path of the local settings file to read, or undefined when none applies:
 * `PYFLEET_LOCAL_SETTINGS=none` turns it off (the tests), any other value names the file.
 */
export function localSettingsPath(root: string, stack: string): string | undefined {
  const override = process.env["PYFLEET_LOCAL_SETTINGS"];
  if (override === "none") return undefined;
  const file = override ? path.resolve(root, override) : path.join(root, localSettingsFile(stack));
  return existsSync(file) ? file : undefined;
}

/** Reads the `config:` block of a local settings file; secrets never go there. */
export function readLocalSettings(file: string): Record<string, unknown> {
  const doc = parseYaml(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
  const config = doc?.config ?? {};
  for (const [key, value] of Object.entries(config)) {
    if (JSON.stringify(value ?? null).includes('"secure"')) {
      throw new Error(
        `${path.basename(file)}: ${key} holds an encrypted value; secrets belong in the stack ` +
          `file (pulumi config set --secret ${key} <value>), never in local settings`,
      );
    }
  }
  return config;
}

/**
 * Raw `pyfleet:*` config (short keys, values as Pulumi hands them: strings, objects as JSON)
 * with the local settings on top; objects merge key by key, anything else replaces.
 */
export function withLocalSettings(
  config: Readonly<Record<string, string>>,
  local: Readonly<Record<string, unknown>>,
  namespace = "pyfleet",
): Record<string, string> {
  const out: Record<string, string> = { ...config };
  for (const [fullKey, value] of Object.entries(local)) {
    if (!fullKey.startsWith(`${namespace}:`)) continue;
    const key = fullKey.slice(namespace.length + 1);
    const current = decode(out[key]);
    const merged = isObject(current) && isObject(value) ? deepMerge(current, value) : value;
    out[key] = typeof merged === "string" ? merged : JSON.stringify(merged);
  }
  return out;
}

function decode(raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function deepMerge(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = isObject(cur) && isObject(v) ? deepMerge(cur, v) : v;
  }
  return out;
}

/** How messages name where a stack's settings come from: the stack file, plus the local one. */
export function configFilesName(stack: string, local: string | undefined): string {
  const committed = `Pulumi.${stack}.yaml`;
  return local === undefined ? committed : `${committed} or ${path.basename(local)}`;
}

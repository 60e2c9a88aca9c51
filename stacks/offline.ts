/**
 * Settings for tools that run outside the Pulumi engine (`validate`, `render`, `promote`, the
 * Dockerfile printer): the same resolution, fed from `Pulumi.<stack>.yaml` on disk plus the
 * local settings file. Secrets are read as Pulumi stores them — `{secure: ...}` at the top of a
 * key or anywhere inside it (`pulumi config set --secret --path`) — and are never decrypted:
 * their presence and shape are all these tools need.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { projectRoot } from "./load";
import {
  configFilesName,
  localSettingsPath,
  readLocalSettings,
  withLocalSettings,
} from "./localSettings";
import { projectSources } from "./projectFiles";
import { resolveSettings } from "./settings";
import type { Settings } from "./types";

/** Stands in for a value the stack file stores encrypted. */
export { SECRET_PLACEHOLDER } from "./schema";
import { SECRET_PLACEHOLDER } from "./schema";

/** A stack's config as Pulumi hands it to a program. */
export interface StackFileConfig {
  /** Full keys (`pyfleet:registry`) to raw values: strings as-is, structures as JSON. */
  config: Record<string, string>;
  /** Full keys whose value is, or contains, an encrypted value. */
  secretKeys: string[];
}

/**
 * Pulumi's view of a stack file's `config:` block. A key is secret when its value holds a
 * `{secure: <ciphertext>}` anywhere; each such leaf reads as {@link SECRET_PLACEHOLDER}.
 */
export function stackFileConfig(doc: { config?: Record<string, unknown> } | null): StackFileConfig {
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(doc?.config ?? {})) {
    let secret = false;
    const plain = replaceSecure(value, () => (secret = true));
    if (secret) secretKeys.push(key);
    config[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
  }
  return { config, secretKeys };
}

function isSecure(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1 &&
    typeof (value as Record<string, unknown>)["secure"] === "string"
  );
}

function replaceSecure(value: unknown, found: () => void): unknown {
  if (isSecure(value)) {
    found();
    return SECRET_PLACEHOLDER;
  }
  if (Array.isArray(value)) return value.map((v) => replaceSecure(v, found));
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = replaceSecure(v, found);
    return out;
  }
  return value;
}

/** Options of {@link offlineConfig}. */
export interface OfflineOptions {
  /** A stack config file to read instead of `Pulumi.<stack>.yaml`. */
  configFile?: string;
}

/** The stack's full config (committed file plus local settings), as the program would see it. */
export function offlineConfig(
  stack: string,
  root: string = projectRoot(),
  options: OfflineOptions = {},
): StackFileConfig {
  const file = options.configFile ?? path.join(root, `Pulumi.${stack}.yaml`);
  const doc = existsSync(file)
    ? (parseYaml(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null)
    : null;
  const read = stackFileConfig(doc);
  const local = localSettingsPath(root, stack);
  if (local === undefined) return read;
  const merged = withLocalSettings(pyfleetKeys(read.config), readLocalSettings(local));
  const config: Record<string, string> = { ...read.config };
  for (const [key, value] of Object.entries(merged)) config[`pyfleet:${key}`] = value;
  return { config, secretKeys: read.secretKeys };
}

function pyfleetKeys(config: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (key.startsWith("pyfleet:")) out[key.slice("pyfleet:".length)] = value;
  }
  return out;
}

/** Resolves the settings of a stack from its stack file on disk. */
export function offlineSettings(
  stack: string,
  root: string = projectRoot(),
  options: OfflineOptions = {},
): Settings {
  const { config: full, secretKeys } = offlineConfig(stack, root, options);
  const config = pyfleetKeys(full);
  const secrets = new Set(
    secretKeys.filter((k) => k.startsWith("pyfleet:")).map((k) => k.slice("pyfleet:".length)),
  );
  return resolveSettings({
    stack,
    project: "pyfleet",
    config,
    secretConfigKeys: secrets,
    ...projectSources(root),
    configFiles: options.configFile
      ? path.basename(options.configFile)
      : configFilesName(stack, localSettingsPath(root, stack)),
  });
}

/** Whether a stack builds or promotes its images; "build" when its settings do not resolve. */
export function imageModeOf(stack: string, root: string = projectRoot()): "build" | "promote" {
  try {
    return offlineSettings(stack, root).images.mode;
  } catch {
    return "build";
  }
}

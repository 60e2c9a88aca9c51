/**
 * Settings for tools that run outside `pulumi up` (the Dockerfile printer, the .dockerignore
 * writer): the same resolution, fed from `Pulumi.<stack>.yaml` on disk. Secret values are not
 * decrypted here, only their presence is seen.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { gitRevisions, projectRoot } from "./load";
import { resolveSettings } from "./settings";
import type { Settings } from "./types";

/** Resolves the settings of a stack from its committed stack file. */
export function offlineSettings(stack: string, root: string = projectRoot()): Settings {
  const file = path.join(root, `Pulumi.${stack}.yaml`);
  const doc = existsSync(file)
    ? (parseYaml(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null)
    : null;
  const config: Record<string, string> = {};
  const secretKeys = new Set<string>();
  for (const [key, value] of Object.entries(doc?.config ?? {})) {
    if (!key.startsWith("pyfleet:")) continue;
    const short = key.slice("pyfleet:".length);
    const isSecret = typeof value === "object" && value !== null && "secure" in value;
    if (isSecret) secretKeys.add(short);
    config[short] = isSecret
      ? "<secret>"
      : typeof value === "string"
        ? value
        : JSON.stringify(value);
  }
  return resolveSettings({
    stack,
    project: "pyfleet",
    config,
    secretConfigKeys: secretKeys,
    readFile: (rel) => {
      const full = path.resolve(root, rel);
      return existsSync(full) && statSync(full).isFile() ? readFileSync(full, "utf8") : undefined;
    },
    isDirectory: (rel) => {
      const full = path.resolve(root, rel);
      return existsSync(full) && statSync(full).isDirectory();
    },
    revision: gitRevisions(root),
  });
}

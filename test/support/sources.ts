/**
 * In-memory settings sources: the real project files, with per-test overrides.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import type { SettingsSources } from "../../stacks/settings";

const ROOT = path.resolve(__dirname, "..", "..");

/** Options of {@link sources}. */
export interface SourceOptions {
  /** Stack name. @default "dev" */
  stack?: string;
  /** `pyfleet:*` config, values as plain JS (objects are JSON-encoded like Pulumi does). */
  config?: Record<string, unknown>;
  /** Config keys stored encrypted. */
  secretKeys?: string[];
  /** Files to add or replace (relative path -> text); undefined deletes. */
  files?: Record<string, string | undefined>;
  /** Whether every app folder is dirty. @default false */
  dirty?: boolean;
  /** Whether the project is a git checkout. @default true */
  git?: boolean;
}

/** Builds settings sources over the project files. */
export function sources(options: SourceOptions = {}): SettingsSources {
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.config ?? {})) {
    config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  const files = options.files ?? {};
  return {
    stack: options.stack ?? "dev",
    project: "pyfleet",
    config,
    secretConfigKeys: new Set(options.secretKeys ?? []),
    readFile(rel) {
      if (rel in files) return files[rel];
      const full = path.join(ROOT, rel);
      return existsSync(full) && statSync(full).isFile() ? readFileSync(full, "utf8") : undefined;
    },
    isDirectory(rel) {
      const full = path.join(ROOT, rel);
      return existsSync(full) && statSync(full).isDirectory();
    },
    revision() {
      return options.git === false
        ? undefined
        : {
            sha: "fedcba9876543210fedcba9876543210fedcba98",
            dirty: options.dirty ?? false,
            committedAt: "2026-11-01T12:00:00Z",
          };
    },
  };
}

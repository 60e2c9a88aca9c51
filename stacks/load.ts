/**
 * The one place that reads the outside world: Pulumi config, project files and git. It feeds
 * `resolveSettings` and reads credentials as Pulumi secrets.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { resolveSettings, type RevisionInfo } from "./settings";
import type { Settings } from "./types";

/** Config namespace of every pyfleet setting. */
export const NAMESPACE = "pyfleet";

/** Settings plus the secrets that must stay Outputs. */
export interface LoadedStack {
  /** Validated settings. */
  settings: Settings;
  /** Registry password (secret). */
  registryPassword?: pulumi.Output<string>;
  /** Kubeconfig contents (secret). */
  kubeconfig?: pulumi.Output<string>;
  /** pip.conf for private indexes (secret). */
  pipConf?: pulumi.Output<string>;
  /** Secret environment per app (secret). */
  appSecrets: Record<string, pulumi.Output<Record<string, string>>>;
  /** Source repository URL, for OCI labels. */
  sourceUrl?: string;
}

/** The project root: the folder holding Pulumi.yaml. */
export function projectRoot(): string {
  return path.resolve(__dirname, "..");
}

/** Reads and validates the current stack's settings. Throws `SettingsError` on bad input. */
export function loadStack(root: string = projectRoot()): LoadedStack {
  const prefix = `${NAMESPACE}:`;
  const config: Record<string, string> = {};
  const secretKeys = new Set<string>();
  const isSecret = (runtimeConfig as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
  for (const [key, value] of Object.entries(runtimeConfig.allConfig())) {
    if (!key.startsWith(prefix)) continue;
    const short = key.slice(prefix.length);
    config[short] = value;
    if (isSecret?.(key)) secretKeys.add(short);
  }

  const settings = resolveSettings({
    stack: pulumi.getStack(),
    project: pulumi.getProject(),
    config,
    secretConfigKeys: secretKeys,
    readFile: (rel) => readProjectFile(root, rel),
    isDirectory: (rel) => {
      const full = path.resolve(root, rel);
      return full.startsWith(root) && existsSync(full) && statSync(full).isDirectory();
    },
    revision: (rel) => gitRevision(root, rel),
  });

  const pyfleet = new pulumi.Config(NAMESPACE);
  const appSecrets: Record<string, pulumi.Output<Record<string, string>>> = {};
  const allSecrets = pyfleet.getSecretObject<Record<string, Record<string, string>>>("appSecrets");
  for (const app of settings.apps) {
    if (app.secretNames.length > 0 && allSecrets) {
      appSecrets[app.name] = pulumi.secret(allSecrets.apply((all) => all[app.name] ?? {}));
    }
  }
  const registryPassword = pyfleet.getSecret("registryPassword");
  const kubeconfig = pyfleet.getSecret("kubeconfig");
  const pipConf = pyfleet.getSecret("pipConf");
  const sourceUrl = sourceRepositoryUrl(root);
  return {
    settings,
    appSecrets,
    ...(registryPassword ? { registryPassword } : {}),
    ...(kubeconfig ? { kubeconfig } : {}),
    ...(pipConf ? { pipConf } : {}),
    ...(sourceUrl ? { sourceUrl } : {}),
  };
}

function readProjectFile(root: string, rel: string): string | undefined {
  const full = path.resolve(root, rel);
  if (!full.startsWith(root + path.sep)) return undefined;
  try {
    return statSync(full).isFile() ? readFileSync(full, "utf8") : undefined;
  } catch {
    return undefined;
  }
}

function git(root: string, args: string[]): string | undefined {
  try {
    return execFileSync("git", ["-C", root, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return undefined;
  }
}

/**
 * The commit a build comes from: the CI's commit variable when set, else `git rev-parse HEAD`;
 * dirty when the app's folder has uncommitted changes.
 */
export function gitRevision(root: string, rel: string): RevisionInfo | undefined {
  const fromCi =
    process.env["PYFLEET_GIT_SHA"] ?? process.env["GITHUB_SHA"] ?? process.env["CI_COMMIT_SHA"];
  const sha = fromCi ?? git(root, ["rev-parse", "HEAD"]);
  if (sha === undefined || !/^[0-9a-f]{40,64}$/.test(sha)) return undefined;
  const status = git(root, ["status", "--porcelain", "--", rel]);
  const committedAt = git(root, ["log", "-1", "--format=%cI", sha]);
  return {
    sha,
    dirty: status !== undefined && status !== "",
    ...(committedAt ? { committedAt } : {}),
  };
}

function sourceRepositoryUrl(root: string): string | undefined {
  const server = process.env["GITHUB_SERVER_URL"];
  const repo = process.env["GITHUB_REPOSITORY"];
  if (server && repo) return `${server}/${repo}`;
  const remote = git(root, ["remote", "get-url", "origin"]);
  // Never leak credentials embedded in a remote URL.
  return remote && /^https?:\/\/[^@/]+\//.test(remote) ? remote : undefined;
}

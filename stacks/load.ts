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
    revision: gitRevisions(root),
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

function git(root: string, args: string[], trim = true): string | undefined {
  try {
    const out = execFileSync("git", ["-C", root, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    return trim ? out.trim() : out;
  } catch {
    return undefined;
  }
}

/**
 * Revision lookups for project folders, from a fixed number of git runs whatever the number of
 * folders asked about (one `rev-parse`, one `status`, one `log`), so a catalogue of hundreds of
 * apps costs what one app does. The commit is the CI's commit variable when set, else `HEAD`; a
 * folder is dirty when `git status` lists a change inside it (as `git status -- <folder>` would).
 */
export function gitRevisions(root: string): (rel: string) => RevisionInfo | undefined {
  let snapshot: GitSnapshot | null | undefined;
  return (rel) => {
    snapshot ??= readGitSnapshot(root) ?? null;
    if (snapshot === null) return undefined;
    return {
      sha: snapshot.sha,
      dirty: isDirty(snapshot, rel),
      ...(snapshot.committedAt ? { committedAt: snapshot.committedAt } : {}),
    };
  };
}

/** What git says about the checkout, read once per program. */
interface GitSnapshot {
  sha: string;
  committedAt?: string;
  /** The project root's folder inside the repository (`""` at its top, else ending in `/`). */
  prefix: string;
  /** Changed paths, relative to the repository's top; untracked folders end in `/`. */
  changed: string[];
}

function readGitSnapshot(root: string): GitSnapshot | undefined {
  const fromCi =
    process.env["PYFLEET_GIT_SHA"] ?? process.env["GITHUB_SHA"] ?? process.env["CI_COMMIT_SHA"];
  // One run gives both the root's place in the repository and, unless CI named it, HEAD.
  const parsed = git(root, ["rev-parse", "--show-prefix", ...(fromCi ? [] : ["HEAD"])], false);
  const lines = parsed?.split("\n") ?? [];
  const sha = fromCi ?? lines[1]?.trim();
  if (sha === undefined || !/^[0-9a-f]{40,64}$/.test(sha)) return undefined;
  // Porcelain paths are relative to the repository's top whatever the working folder, and -z
  // prints them unquoted: "XY path" entries, a rename or copy followed by its source path.
  const status = git(root, ["status", "--porcelain", "-z"], false);
  const changed: string[] = [];
  const entries = status?.split("\0") ?? [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (entry.length < 4) continue;
    changed.push(entry.slice(3));
    if (entry[0] === "R" || entry[0] === "C") changed.push(entries[++i] ?? "");
  }
  const committedAt = git(root, ["log", "-1", "--format=%cI", sha]);
  return {
    sha,
    ...(committedAt ? { committedAt } : {}),
    prefix: lines[0]?.trim() ?? "",
    changed,
  };
}

function isDirty(snapshot: GitSnapshot, rel: string): boolean {
  const folder = path.posix
    .normalize(snapshot.prefix + rel.replace(/\\/g, "/"))
    .replace(/\/+$/, "");
  if (folder === "." || folder === "") return snapshot.changed.length > 0;
  return snapshot.changed.some(
    (p) =>
      p === folder ||
      p.startsWith(`${folder}/`) ||
      // An untracked folder is listed once, as "dir/", for everything below it.
      (p.endsWith("/") && `${folder}/`.startsWith(p)),
  );
}

function sourceRepositoryUrl(root: string): string | undefined {
  const server = process.env["GITHUB_SERVER_URL"];
  const repo = process.env["GITHUB_REPOSITORY"];
  if (server && repo) return `${server}/${repo}`;
  const remote = git(root, ["remote", "get-url", "origin"]);
  // Never leak credentials embedded in a remote URL.
  return remote && /^https?:\/\/[^@/]+\//.test(remote) ? remote : undefined;
}

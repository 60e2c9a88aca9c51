/**
 * Copies of the project the scenarios work on (the checkout is never changed), and what the
 * harness reads from them: rendered manifests, app folders, the git revision.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import type { ManifestFile } from "../checks/observed";

/** Never copied: dependencies, outputs, state, staged contexts and the local settings files. */
const NEVER_COPIED = [
  "node_modules",
  ".pyfleet",
  "reports",
  "rendered",
  ".pulumi-state",
  "Pulumi.*.local.yaml",
];

/**
 * Copies the working tree at `root` (not its dependencies, state or reports) into `dest` and
 * links its node_modules. `withGit: false` leaves the git metadata out too.
 */
export function copyProject(root: string, dest: string, options: { withGit: boolean }): void {
  mkdirSync(dest, { recursive: true });
  const excludes = [...NEVER_COPIED, ...(options.withGit ? [] : [".git"])].map(
    (e) => `--exclude=./${e}`,
  );
  execFileSync("bash", [
    "-c",
    'tar -C "$1" "${@:3}" -cf - . | tar -C "$2" -xf -',
    "copy",
    root,
    dest,
    ...excludes,
  ]);
  symlinkSync(path.join(root, "node_modules"), path.join(dest, "node_modules"));
}

/** Full SHA of `commit` in the repository at `root`; throws naming the fix when it is absent. */
export function resolveCommit(root: string, commit: string): string {
  try {
    return execFileSync(
      "git",
      ["-C", root, "rev-parse", "--verify", "--quiet", `${commit}^{commit}`],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      },
    ).trim();
  } catch {
    throw new Error(
      `commit ${commit} is not in the repository at ${root} (a shallow clone?); ` +
        "fetch the history with `git fetch --unshallow`",
    );
  }
}

/** Writes the tree of `commit` (no git metadata) into `dest`. */
export function exportCommit(root: string, commit: string, dest: string): void {
  mkdirSync(dest, { recursive: true });
  execFileSync("bash", [
    "-c",
    'git -C "$1" archive --format=tar "$2" | tar -C "$3" -xf -',
    "archive",
    root,
    commit,
    dest,
  ]);
}

/**
 * Gives every file and folder under `dir` (its node_modules left alone) the modification time
 * `epochSeconds` and no group or other write bit. Image layers carry file times and modes,
 * and the build provider's context hash carries modes (`git archive` writes 664 where a
 * checkout has 644): two trees with the same contents build the same image only when these
 * agree too.
 */
export function settleFileMetadata(dir: string, epochSeconds: number): void {
  execFileSync("bash", [
    "-c",
    'find "$1" -path "$1/node_modules" -prune -o -print0 | xargs -0 chmod go-w && ' +
      'find "$1" -path "$1/node_modules" -prune -o -print0 | xargs -0 touch -h -d "@$2"',
    "settle",
    dir,
    String(epochSeconds),
  ]);
}

/** Commit time of `commit` in seconds since the epoch. */
export function commitTime(root: string, commit: string): number {
  return Number(git(root, ["log", "-1", "--format=%ct", commit]) ?? "0");
}

/**
 * Gives `dest` the dependencies its lockfile names: a link to `root`'s node_modules when both
 * lockfiles are the same, else its own `npm ci`. Returns which.
 */
export function provideDependencies(root: string, dest: string): "linked" | "installed" {
  const lock = (dir: string) => readFileSync(path.join(dir, "package-lock.json"), "utf8");
  if (lock(root) === lock(dest)) {
    symlinkSync(path.join(root, "node_modules"), path.join(dest, "node_modules"));
    return "linked";
  }
  execFileSync("npm", ["ci", "--no-audit", "--no-fund"], {
    cwd: dest,
    stdio: ["ignore", "ignore", "inherit"],
  });
  return "installed";
}

/** Every `.yaml`/`.yml` file under `dir` with its text, paths relative to `relativeTo`. */
export function manifestsUnder(dir: string, relativeTo: string): ManifestFile[] {
  const out: ManifestFile[] = [];
  if (!existsSync(dir)) return out;
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const full = path.join(d, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(entry)) {
        out.push({ path: path.relative(relativeTo, full), text: readFileSync(full, "utf8") });
      }
    }
  };
  walk(dir);
  return out;
}

/** The source folder of each app in the catalogue (`apps/catalogue.yaml`). */
export function appFolders(root: string): Record<string, string> {
  const catalogue = parseYaml(readFileSync(path.join(root, "apps", "catalogue.yaml"), "utf8")) as {
    apps: Record<string, { path: string }>;
  };
  return Object.fromEntries(Object.entries(catalogue.apps).map(([name, a]) => [name, a.path]));
}

function git(root: string, args: string[]): string | undefined {
  try {
    // No optional index refresh: a copy's `git status` must not write the checkout's index.
    return execFileSync("git", ["-C", root, ...args], {
      encoding: "utf8",
      env: { ...process.env, GIT_OPTIONAL_LOCKS: "0" },
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return undefined;
  }
}

/**
 * The `sha-<short>[-dirty]` tag a build of `folder` in `root` must carry: the commit from the
 * environment a CI sets, else git's HEAD, with `-dirty` when the folder has uncommitted
 * changes; undefined when no commit is known.
 */
export function expectedRevisionTag(
  root: string,
  folder: string,
  env: NodeJS.ProcessEnv,
): string | undefined {
  const sha =
    env["PYFLEET_GIT_SHA"] ??
    env["GITHUB_SHA"] ??
    env["CI_COMMIT_SHA"] ??
    git(root, ["rev-parse", "HEAD"]);
  if (sha === undefined || !/^[0-9a-f]{40,64}$/.test(sha)) return undefined;
  const status = git(root, ["status", "--porcelain", "--", folder]);
  return `sha-${sha.slice(0, 7)}${status ? "-dirty" : ""}`;
}

/**
 * The project's files and git state as settings resolution sees them, confined to the
 * repository: nothing outside the project root is read, and paths or symlinks that lead out of
 * it are reported so no build context can carry outside files to BuildKit.
 */
import { execFileSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  statSync,
} from "node:fs";
import * as path from "node:path";
import type { RevisionInfo, SettingsSources } from "./settings";

/** Whether `full` is `root` itself or lies under it. */
export function isInside(root: string, full: string): boolean {
  const rel = path.relative(root, full);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** The real path of `full`, resolving symlinks of its longest existing prefix. */
function realPath(full: string): string {
  let existing = full;
  const rest: string[] = [];
  while (!existsSync(existing) && path.dirname(existing) !== existing) {
    rest.unshift(path.basename(existing));
    existing = path.dirname(existing);
  }
  try {
    return path.join(realpathSync(existing), ...rest);
  } catch {
    return full;
  }
}

/** Most entries a symlink scan visits, so a huge folder cannot stall validation. */
const SCAN_LIMIT = 20000;
const SKIP = new Set([".git", "node_modules", ".venv", "venv", "__pycache__"]);

/** Symlinks under `rel` (relative to root) whose targets resolve outside the project. */
export function escapingLinks(root: string, rel: string): string[] {
  const realRoot = realPath(root);
  const found: string[] = [];
  const queue = [path.resolve(root, rel)];
  let visited = 0;
  while (queue.length > 0 && visited < SCAN_LIMIT) {
    const dir = queue.shift()!;
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      continue;
    }
    for (const entry of entries) {
      visited += 1;
      if (SKIP.has(entry)) continue;
      const full = path.join(dir, entry);
      const stat = lstatSync(full);
      if (stat.isSymbolicLink()) {
        const target = path.resolve(path.dirname(full), readlinkSync(full));
        if (!isInside(realRoot, realPath(target))) {
          found.push(`${path.relative(root, full)} -> ${readlinkSync(full)}`);
        }
      } else if (stat.isDirectory()) {
        queue.push(full);
      }
    }
  }
  return found;
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

/** The remote URL of the checkout, only when it carries no credentials. */
export function sourceRepositoryUrl(root: string): string | undefined {
  const server = process.env["GITHUB_SERVER_URL"];
  const repo = process.env["GITHUB_REPOSITORY"];
  if (server && repo) return `${server}/${repo}`;
  const remote = git(root, ["remote", "get-url", "origin"]);
  // Never leak credentials embedded in a remote URL.
  return remote && /^https?:\/\/[^@/]+\//.test(remote) ? remote : undefined;
}

/** The file, folder and git parts of `SettingsSources`, confined to `root`. */
export function projectSources(
  root: string,
): Pick<
  SettingsSources,
  "readFile" | "isDirectory" | "revision" | "outsideProject" | "escapingLinks"
> {
  const realRoot = realPath(root);
  const inside = (rel: string): string | undefined => {
    const full = path.resolve(root, rel);
    return isInside(root, full) && isInside(realRoot, realPath(full)) ? full : undefined;
  };
  return {
    readFile(rel) {
      const full = inside(rel);
      if (full === undefined) return undefined;
      try {
        return statSync(full).isFile() ? readFileSync(full, "utf8") : undefined;
      } catch {
        return undefined;
      }
    },
    isDirectory(rel) {
      const full = inside(rel);
      return full !== undefined && existsSync(full) && statSync(full).isDirectory();
    },
    revision: (rel) => gitRevision(root, rel),
    outsideProject(rel) {
      const full = path.resolve(root, rel);
      if (!isInside(root, full)) return full;
      const real = realPath(full);
      return isInside(realRoot, real) ? undefined : real;
    },
    escapingLinks: (rel) => escapingLinks(root, rel),
  };
}

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
    revision: gitRevisions(root),
    outsideProject(rel) {
      const full = path.resolve(root, rel);
      if (!isInside(root, full)) return full;
      const real = realPath(full);
      return isInside(realRoot, real) ? undefined : real;
    },
    escapingLinks: (rel) => escapingLinks(root, rel),
  };
}

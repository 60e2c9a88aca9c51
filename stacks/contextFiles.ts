/**
 * A build context as BuildKit sees it: the files and folders .dockerignore leaves in, each with
 * what of it reaches the image (contents, git's file mode, a symlink's target). This is what the
 * build key hashes (model/buildKey.ts); nothing here depends on the checkout's folder, owner,
 * umask or timestamps.
 */
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
} from "node:fs";
import * as path from "node:path";
import { DockerignoreMatcher, readDockerignore } from "../policy/vocabulary";

/** One entry of a build context. */
export type ContextEntry =
  | { path: string; kind: "file"; mode: "644" | "755"; sha256: string }
  | { path: string; kind: "link"; target: string }
  | { path: string; kind: "dir" };

/** Git's view of a file mode: 755 when the owner may execute it, else 644. */
export function gitMode(mode: number): "644" | "755" {
  return (mode & 0o100) !== 0 ? "755" : "644";
}

/** The entries of the context folder `root`, in path order, after its .dockerignore. */
export function contextEntries(root: string): ContextEntry[] {
  let ignore = "";
  try {
    ignore = readFileSync(path.join(root, ".dockerignore"), "utf8");
  } catch {
    // No .dockerignore: the whole folder is the context.
  }
  const matcher = new DockerignoreMatcher(readDockerignore(ignore));
  const entries: ContextEntry[] = [];
  const parents = new Set<string>();
  const walk = (relative: string): void => {
    for (const name of readdirSync(path.join(root, relative)).sort()) {
      const rel = relative === "" ? name : `${relative}/${name}`;
      const stat = lstatSync(path.join(root, rel));
      const excluded = matcher.excludes(rel);
      if (stat.isDirectory()) {
        if (!excluded) entries.push({ path: rel, kind: "dir" });
        // An excluded folder is skipped, as BuildKit does, unless a `!` pattern may re-include
        // something under it.
        if (!excluded || matcher.hasExclusions) walk(rel);
        continue;
      }
      if (excluded) continue;
      for (let p = path.posix.dirname(rel); p !== "."; p = path.posix.dirname(p)) parents.add(p);
      if (stat.isSymbolicLink()) {
        entries.push({ path: rel, kind: "link", target: readlinkSync(path.join(root, rel)) });
      } else if (stat.isFile()) {
        const sha256 = createHash("sha256")
          .update(readFileSync(path.join(root, rel)))
          .digest("hex");
        entries.push({ path: rel, kind: "file", mode: gitMode(stat.mode), sha256 });
      }
    }
  };
  walk("");
  // Folders that hold included files reach the image even when a pattern excluded them.
  for (const dir of parents) {
    if (!entries.some((e) => e.kind === "dir" && e.path === dir)) {
      entries.push({ path: dir, kind: "dir" });
    }
  }
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Where build contexts are staged, relative to the project root (git-ignored). */
export const STAGED_CONTEXTS = ".pyfleet/contexts";

/**
 * The time every staged file and folder carries (1980-01-01, the zip epoch reproducible
 * builds use): a checkout's own mtimes never reach the image.
 */
const STAGED_MTIME = 315532800;

/**
 * Copies the context `source` (absolute) as its `entries` describe it into
 * `<root>/.pyfleet/contexts/<name>` (relative to `root`, which it returns): only what
 * .dockerignore leaves in, modes 644/755, one fixed mtime. BuildKit then receives the same
 * bytes, modes and times from every checkout, and the build provider hashes the same
 * folder at the same relative path. `name` is `<what>@<version>` (`vectors@1a2b...`); a folder
 * already staged is reused, and older versions of the same `<what>` are removed.
 */
export function stageContext(
  root: string,
  source: string,
  name: string,
  entries: readonly ContextEntry[],
): string {
  const relative = path.posix.join(STAGED_CONTEXTS, name);
  const target = path.join(root, relative);
  if (existsSync(target)) return relative;
  const parent = path.dirname(target);
  mkdirSync(parent, { recursive: true });
  const what = name.slice(0, name.lastIndexOf("@") + 1);
  for (const other of readdirSync(parent)) {
    if (what !== "" && other !== name && other.startsWith(what)) {
      rmSync(path.join(parent, other), { recursive: true, force: true });
    }
  }
  const work = mkdtempSync(path.join(parent, `.${name}-`));
  try {
    for (const entry of entries) {
      const to = path.join(work, entry.path);
      if (entry.kind === "dir") mkdirSync(to, { recursive: true, mode: 0o755 });
      else {
        mkdirSync(path.dirname(to), { recursive: true, mode: 0o755 });
        if (entry.kind === "link") symlinkSync(entry.target, to);
        else {
          copyFileSync(path.join(source, entry.path), to);
          chmodSync(to, entry.mode === "755" ? 0o755 : 0o644);
        }
      }
    }
    // Times last, deepest first: writing into a folder moves its mtime.
    const all = [...entries].sort((a, b) => b.path.length - a.path.length);
    for (const entry of all) {
      const at = path.join(work, entry.path);
      if (entry.kind === "link") lutimesSync(at, STAGED_MTIME, STAGED_MTIME);
      else utimesSync(at, STAGED_MTIME, STAGED_MTIME);
    }
    chmodSync(work, 0o755);
    utimesSync(work, STAGED_MTIME, STAGED_MTIME);
    renameSync(work, target);
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    // Another run staged the same context meanwhile: theirs is as good as ours.
    if (!existsSync(target)) throw error;
  }
  return relative;
}

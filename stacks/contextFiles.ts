/**
 * A build context as BuildKit sees it: the files and folders .dockerignore leaves in, each with
 * what of it reaches the image (contents, git's file mode, a symlink's target). This is what the
 * build key hashes (model/buildKey.ts); nothing here depends on the checkout's folder, owner,
 * umask or timestamps.
 */
import { createHash } from "node:crypto";
import { lstatSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
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

/**
 * The README's Layout section must name every folder of the repository, and nothing that is
 * gone, so it cannot go stale as folders move.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..", "..");

/** The entries of the Layout code block: `name/` at the start of a line, or `index.ts`. */
function layoutEntries(): { top: string[]; test: string[] } {
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Layout"));
  const block = /```\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  const top = [...block.matchAll(/^(\S+)/gm)].map((m) => m[1]!.replace(/\/$/, ""));
  const testLine = /^test\/\s+([\s\S]*?)(?=^\S)/m.exec(block)?.[1] ?? "";
  const test = [...testLine.matchAll(/\b([a-z0-9]+)\//g)].map((m) => m[1]!);
  return { top, test };
}

/** Folders git tracks, one level below `dir` ("" for the top), dot-folders left out. */
function trackedFolders(dir: string): string[] {
  const files = execFileSync("git", ["ls-files", "--", dir === "" ? "." : dir], {
    cwd: ROOT,
    encoding: "utf8",
  })
    .split("\n")
    .filter((f) => f !== "");
  const prefix = dir === "" ? "" : `${dir}/`;
  const folders = new Set<string>();
  for (const file of files) {
    const rest = file.slice(prefix.length).split("/");
    if (rest.length > 1 && !rest[0]!.startsWith(".")) folders.add(rest[0]!);
  }
  return [...folders].sort();
}

describe("README layout", () => {
  const { top, test } = layoutEntries();

  it("names every top-level folder of the repository", () => {
    expect(trackedFolders("").filter((f) => !top.includes(f))).toEqual([]);
  });

  it("names only entries that exist", () => {
    expect(top.filter((entry) => !existsSync(path.join(ROOT, entry)))).toEqual([]);
  });

  it("names every test folder, and only those", () => {
    expect([...test].sort()).toEqual(trackedFolders("test"));
  });
});

/**
 * The revision reader runs git a fixed number of times per program and says of each folder what
 * `git status -- <folder>` says of it: the oracle here is that very command, run per folder.
 */
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gitRevisions } from "../../stacks/load";

const FOLDERS = Array.from({ length: 40 }, (_, i) => `apps/app${i}`);
let work: string;
let log: string;
let savedPath: string | undefined;
const savedCi: Record<string, string | undefined> = {};

function run(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-C", cwd, ...args], { encoding: "utf8" });
}

/** A repository whose project root is `project/` inside it, one commit, 40 app folders. */
function makeRepo(name: string): { repo: string; root: string } {
  const repo = path.join(work, name);
  const root = path.join(repo, "project");
  for (const folder of FOLDERS) {
    mkdirSync(path.join(root, folder), { recursive: true });
    writeFileSync(path.join(root, folder, "main.py"), "print('hi')\n");
  }
  writeFileSync(path.join(repo, "outside.txt"), "outside\n");
  run(repo, "init", "-q");
  run(repo, "add", ".");
  run(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init");
  return { repo, root };
}

function oracleDirty(root: string, rel: string): boolean {
  return run(root, "status", "--porcelain", "--", rel).trim() !== "";
}

function gitRuns(): number {
  try {
    return readFileSync(log, "utf8").split("\n").filter(Boolean).length;
  } catch {
    return 0;
  }
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), "pyfleet-git-"));
  // A git on PATH that counts its runs, so the test sees how often the reader calls it.
  const bin = path.join(work, "bin");
  mkdirSync(bin);
  log = path.join(work, "git-runs.log");
  const real = execFileSync("bash", ["-c", "command -v git"], { encoding: "utf8" }).trim();
  writeFileSync(path.join(bin, "git"), `#!/bin/sh\necho "$*" >>'${log}'\nexec '${real}' "$@"\n`);
  chmodSync(path.join(bin, "git"), 0o755);
  savedPath = process.env["PATH"];
  process.env["PATH"] = `${bin}:${savedPath ?? ""}`;
  for (const key of ["PYFLEET_GIT_SHA", "GITHUB_SHA", "CI_COMMIT_SHA"]) {
    savedCi[key] = process.env[key];
    delete process.env[key];
  }
});

afterAll(() => {
  process.env["PATH"] = savedPath;
  for (const [key, value] of Object.entries(savedCi)) {
    if (value !== undefined) process.env[key] = value;
  }
  rmSync(work, { recursive: true, force: true });
});

describe("gitRevisions", () => {
  it("agrees with `git status -- <folder>` on every folder, from three git runs", () => {
    const { repo, root } = makeRepo("changes");
    const head = run(repo, "rev-parse", "HEAD").trim();
    writeFileSync(path.join(root, "apps/app1/main.py"), "print('changed')\n");
    writeFileSync(path.join(root, "apps/app2/new.py"), "untracked\n");
    mkdirSync(path.join(root, "apps/app3/pkg/sub"), { recursive: true });
    writeFileSync(path.join(root, "apps/app3/pkg/sub/x.py"), "untracked folder\n");
    writeFileSync(path.join(root, "apps/app4/main.py"), "staged\n");
    run(repo, "add", "project/apps/app4/main.py");
    renameSync(path.join(root, "apps/app5/main.py"), path.join(root, "apps/app50.py"));
    run(repo, "add", "-A", "project/apps/app5", "project/apps/app50.py");
    writeFileSync(path.join(root, "apps/app6/main.py"), "");
    run(repo, "rm", "-q", "project/apps/app7/main.py");
    writeFileSync(path.join(repo, "outside.txt"), "changed outside the project\n");
    mkdirSync(path.join(root, "apps/app80"));
    writeFileSync(path.join(root, "apps/app80/only-untracked.py"), "x\n");

    const before = gitRuns();
    const revision = gitRevisions(root);
    const folders = [
      ...FOLDERS,
      "apps/app80",
      "apps/app3/pkg/sub",
      "apps/app1/",
      "./apps/app9",
      "apps",
    ];
    const got = folders.map((rel) => revision(rel));
    expect(gitRuns() - before).toBe(3);

    for (const [i, rel] of folders.entries()) {
      expect({ rel, dirty: got[i]?.dirty }).toEqual({ rel, dirty: oracleDirty(root, rel) });
      expect(got[i]?.sha).toBe(head);
      expect(got[i]?.committedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    }
    const dirty = folders.filter((_, i) => got[i]?.dirty);
    expect(dirty).toEqual([
      "apps/app1",
      "apps/app2",
      "apps/app3",
      "apps/app4",
      "apps/app5",
      "apps/app6",
      "apps/app7",
      "apps/app80",
      "apps/app3/pkg/sub",
      "apps/app1/",
      "apps",
    ]);
  });

  it("runs git the same number of times for one folder and for forty", () => {
    const { root } = makeRepo("count");
    const one = gitRuns();
    gitRevisions(root)(FOLDERS[0]!);
    const afterOne = gitRuns();
    const revision = gitRevisions(root);
    for (const rel of FOLDERS) revision(rel);
    expect(gitRuns() - afterOne).toBe(afterOne - one);
  });

  it("takes the commit from CI when set, and is undefined outside a checkout", () => {
    const outside = path.join(work, "not-a-repo");
    mkdirSync(outside);
    expect(gitRevisions(outside)("apps/x")).toBeUndefined();
    process.env["PYFLEET_GIT_SHA"] = "a".repeat(40);
    try {
      expect(gitRevisions(outside)("apps/x")).toEqual({ sha: "a".repeat(40), dirty: false });
      const { root } = makeRepo("ci");
      writeFileSync(path.join(root, "apps/app0/main.py"), "changed\n");
      const revision = gitRevisions(root);
      expect(revision("apps/app0")).toEqual({ sha: "a".repeat(40), dirty: true });
      expect(revision("apps/app1")?.dirty).toBe(false);
    } finally {
      delete process.env["PYFLEET_GIT_SHA"];
    }
  });
});

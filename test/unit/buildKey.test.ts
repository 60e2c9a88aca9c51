import {
  chmodSync,
  lstatSync,
  readdirSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildKey, keyTag, type BuildKeyInputs } from "../../model/buildKey";
import { DockerignoreMatcher, readDockerignore } from "../../policy/vocabulary";
import { contextEntries, gitMode, stageContext } from "../../stacks/contextFiles";

/**
 * moby/patternmatcher v0.6.1's own table (TestMatches, MatchesOrParentMatches): pattern, path,
 * whether Docker leaves the path out of the build context.
 */
const UPSTREAM: [string, string, boolean][] = [
  ["**", "file", true],
  ["**", "file/", true],
  ["**/", "file", true],
  ["**/", "file/", true],
  ["**", "/", true],
  ["**/", "/", true],
  ["**", "dir/file", true],
  ["**/", "dir/file", true],
  ["**", "dir/file/", true],
  ["**/", "dir/file/", true],
  ["**/**", "dir/file", true],
  ["**/**", "dir/file/", true],
  ["dir/**", "dir/file", true],
  ["dir/**", "dir/file/", true],
  ["dir/**", "dir/dir2/file", true],
  ["dir/**", "dir/dir2/file/", true],
  ["**/dir", "dir", true],
  ["**/dir", "dir/file", true],
  ["**/dir2/*", "dir/dir2/file", true],
  ["**/dir2/*", "dir/dir2/file/", true],
  ["**/dir2/**", "dir/dir2/dir3/file", true],
  ["**/dir2/**", "dir/dir2/dir3/file/", true],
  ["**file", "file", true],
  ["**file", "dir/file", true],
  ["**/file", "dir/file", true],
  ["**file", "dir/dir/file", true],
  ["**/file", "dir/dir/file", true],
  ["**/file*", "dir/dir/file", true],
  ["**/file*", "dir/dir/file.txt", true],
  ["**/file*txt", "dir/dir/file.txt", true],
  ["**/file*.txt", "dir/dir/file.txt", true],
  ["**/file*.txt*", "dir/dir/file.txt", true],
  ["**/**/*.txt", "dir/dir/file.txt", true],
  ["**/**/*.txt2", "dir/dir/file.txt", false],
  ["**/*.txt", "file.txt", true],
  ["**/**/*.txt", "file.txt", true],
  ["a**/*.txt", "a/file.txt", true],
  ["a**/*.txt", "a/dir/file.txt", true],
  ["a**/*.txt", "a/dir/dir/file.txt", true],
  ["a/*.txt", "a/dir/file.txt", false],
  ["a/*.txt", "a/file.txt", true],
  ["a/*.txt**", "a/file.txt", true],
  ["a[b-d]e", "ae", false],
  ["a[b-d]e", "ace", true],
  ["a[b-d]e", "aae", false],
  ["a[^b-d]e", "aze", true],
  [".*", ".foo", true],
  [".*", "foo", false],
  ["abc.def", "abcdef", false],
  ["abc.def", "abc.def", true],
  ["abc.def", "abcZdef", false],
  ["abc?def", "abcZdef", true],
  ["abc?def", "abcdef", false],
  ["a\\\\", "a\\", true],
  ["**/foo/bar", "foo/bar", true],
  ["**/foo/bar", "dir/foo/bar", true],
  ["**/foo/bar", "dir/dir2/foo/bar", true],
  ["abc/**", "abc", false],
  ["abc/**", "abc/def", true],
  ["abc/**", "abc/def/ghi", true],
  ["**/.foo", ".foo", true],
  ["**/.foo", "bar.foo", false],
  ["a(b)c/def", "a(b)c/def", true],
  ["a(b)c/def", "a(b)c/xyz", false],
  ["a.|)$(}+{bc", "a.|)$(}+{bc", true],
  [
    "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
    "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
    true,
  ],
  ["dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true],
  ["a\\*b", "a*b", true],
];

const MULTI: [string[], string, boolean][] = [
  [["**", "!util/docker/web"], "util/docker/web/foo", false],
  [["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", true],
  [["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false],
];

describe(".dockerignore matching, as Docker's patternmatcher", () => {
  it.each(UPSTREAM)("%s against %s: %s", (pattern, file, excluded) => {
    expect(new DockerignoreMatcher([pattern]).excludes(file)).toBe(excluded);
  });

  it.each(MULTI)("%j against %s: %s", (patterns, file, excluded) => {
    expect(new DockerignoreMatcher(patterns).excludes(file)).toBe(excluded);
  });

  it("reads a .dockerignore as ignorefile.ReadAll does", () => {
    expect(readDockerignore("\uFEFF# c\n /tests/ \n\n!  /keep//me/\n./a/../b\n")).toEqual([
      "tests",
      "!keep/me",
      "b",
    ]);
  });
});

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A checkout of the same small app, with this machine's modes and times. */
function checkout(fileMode: number, dirMode: number, mtime: Date): string {
  const root = mkdtempSync(path.join(tmpdir(), "pyfleet-key-"));
  dirs.push(root);
  const write = (rel: string, text: string, mode = fileMode) => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true, mode: dirMode });
    writeFileSync(path.join(root, rel), text);
    chmodSync(path.join(root, rel), mode);
    utimesSync(path.join(root, rel), mtime, mtime);
  };
  write(".dockerignore", "tests/\n**/__pycache__\n.env\n");
  write("app.py", "print('hi')\n");
  write("requirements.txt", "numpy==1.26.4\n");
  write("bin/run.sh", "#!/bin/sh\nexec python app.py\n", fileMode | 0o111);
  write("tests/test_app.py", "def test(): pass\n");
  write("pkg/__pycache__/x.pyc", "junk");
  write(".env", "SECRET=1\n");
  symlinkSync("app.py", path.join(root, "main.py"));
  return root;
}

function inputs(context: string): BuildKeyInputs {
  return {
    dockerfile: "FROM python\n",
    target: "production",
    platforms: ["linux/amd64"],
    buildArgs: {},
    labels: {},
    baseImages: { "python:3.11": "sha256:aa" },
    contexts: { ".": contextEntries(context) },
  };
}

describe("build key", () => {
  const a = checkout(0o644, 0o755, new Date("2026-01-01T00:00:00Z"));
  // Another machine: umask 077, another folder, cloned a year later.
  const b = checkout(0o600, 0o700, new Date("2027-01-01T00:00:00Z"));

  it("sees the context as BuildKit does: ignored files out, git modes, links", () => {
    expect(contextEntries(a).map((e) => [e.path, e.kind, "mode" in e ? e.mode : ""])).toEqual([
      // BuildKit sends .dockerignore itself unless it names itself.
      [".dockerignore", "file", "644"],
      ["app.py", "file", "644"],
      ["bin", "dir", ""],
      ["bin/run.sh", "file", "755"],
      ["main.py", "link", ""],
      ["pkg", "dir", ""],
      ["requirements.txt", "file", "644"],
    ]);
    expect(gitMode(0o700)).toBe("755");
    expect(gitMode(0o600)).toBe("644");
  });

  it("is the same for two checkouts of one tree, whatever their folder, umask and times", () => {
    expect(contextEntries(b)).toEqual(contextEntries(a));
    expect(buildKey(inputs(b))).toBe(buildKey(inputs(a)));
    expect(buildKey(inputs(a))).toMatch(/^[0-9a-f]{64}$/);
    expect(keyTag(buildKey(inputs(a)))).toMatch(/^key-[0-9a-f]{32}$/);
  });

  it("ignores what .dockerignore leaves out", () => {
    const before = buildKey(inputs(a));
    writeFileSync(path.join(a, "tests", "test_app.py"), "def test(): assert False\n");
    writeFileSync(path.join(a, ".env"), "SECRET=2\n");
    expect(buildKey(inputs(a))).toBe(before);
  });

  it("changes with a file's contents, its executable bit, a link target, or any other input", () => {
    const base = inputs(a);
    const key = buildKey(base);
    const c = checkout(0o644, 0o755, new Date());
    writeFileSync(path.join(c, "app.py"), "print('bye')\n");
    expect(buildKey(inputs(c))).not.toBe(key);
    const d = checkout(0o644, 0o755, new Date());
    chmodSync(path.join(d, "app.py"), 0o755);
    expect(buildKey(inputs(d))).not.toBe(key);
    const e = checkout(0o644, 0o755, new Date());
    rmSync(path.join(e, "main.py"));
    symlinkSync("requirements.txt", path.join(e, "main.py"));
    expect(buildKey(inputs(e))).not.toBe(key);
    expect(buildKey({ ...base, dockerfile: "FROM python:3.12\n" })).not.toBe(key);
    expect(buildKey({ ...base, target: "test" })).not.toBe(key);
    expect(buildKey({ ...base, platforms: ["linux/arm64"] })).not.toBe(key);
    expect(buildKey({ ...base, buildArgs: { PIP_INDEX_URL: "x" } })).not.toBe(key);
    expect(buildKey({ ...base, labels: { revision: "y" } })).not.toBe(key);
    expect(buildKey({ ...base, baseImages: { "python:3.11": "sha256:bb" } })).not.toBe(key);
    // Orders that mean nothing do not count.
    expect(buildKey({ ...base, platforms: ["linux/arm64", "linux/amd64"] })).toBe(
      buildKey({ ...base, platforms: ["linux/amd64", "linux/arm64"] }),
    );
  });

  it("keeps a re-included file under an excluded folder", () => {
    const root = checkout(0o644, 0o755, new Date());
    writeFileSync(path.join(root, ".dockerignore"), "tests\n!tests/fixture.json\n");
    writeFileSync(path.join(root, "tests", "fixture.json"), "{}");
    expect(contextEntries(root).map((e) => e.path)).toEqual(
      expect.arrayContaining(["tests", "tests/fixture.json"]),
    );
    expect(contextEntries(root).map((e) => e.path)).not.toContain("tests/test_app.py");
    cpSync(root, `${root}-copy`, { recursive: true, verbatimSymlinks: true });
    dirs.push(`${root}-copy`);
    expect(contextEntries(`${root}-copy`)).toEqual(contextEntries(root));
  });
});

describe("staged build context", () => {
  it("is the same folder, byte for byte, mode for mode, time for time, from any checkout", () => {
    const project = mkdtempSync(path.join(tmpdir(), "pyfleet-stage-"));
    dirs.push(project);
    const a = checkout(0o644, 0o755, new Date("2026-01-01T00:00:00Z"));
    const b = checkout(0o600, 0o700, new Date("2027-01-01T00:00:00Z"));
    const stagedA = stageContext(project, a, "app@1", contextEntries(a));
    expect(stagedA).toBe(".pyfleet/contexts/app@1");
    const one = path.join(project, stagedA);
    const other = mkdtempSync(path.join(tmpdir(), "pyfleet-stage-"));
    dirs.push(other);
    const two = path.join(other, stageContext(other, b, "app@1", contextEntries(b)));
    const listing = (root: string) =>
      contextEntries(root).map((e) => {
        const stat = lstatSync(path.join(root, e.path));
        return [e.path, e.kind, (stat.mode & 0o777).toString(8), stat.mtimeMs];
      });
    expect(listing(two)).toEqual(listing(one));
    expect(listing(one).map(([p]) => p)).not.toContain("tests/test_app.py");
    expect(new Set(listing(one).map(([, , , t]) => t))).toEqual(new Set([315532800000]));
    // A new version of the app replaces the old staging; other apps' stay.
    stageContext(project, a, "other@1", contextEntries(a));
    stageContext(project, a, "app@2", contextEntries(a));
    expect(readdirSync(path.join(project, ".pyfleet", "contexts")).sort()).toEqual([
      "app@2",
      "other@1",
    ]);
  });
});

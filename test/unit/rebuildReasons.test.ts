import { describe, expect, it } from "vitest";
import { buildRecord, type BuildRecordInput } from "../../model/buildRecord";
import {
  condaLockOf,
  environmentOf,
  rebuildLine,
  rebuildReasons,
  requirementsOf,
  type BuildRecord,
} from "../../model/rebuildReasons";

const record = (over: Partial<BuildRecord> = {}): BuildRecord => ({
  key: "k1",
  dependencies: { numpy: "1.26.4", fastapi: "0.115.0" },
  dependencyFiles: ["requirements.txt"],
  files: { "requirements.txt": "r1", "vectors/main.py": "m1", "vectors/api.py": "a1" },
  baseImages: { "python:3.11-slim-bookworm": `sha256:${"a".repeat(64)}` },
  settings: { "build.platforms": "linux/amd64" },
  ...over,
});

describe("dependency files", () => {
  it("reads requirements.txt as pip does: names normalised, pins as versions", () => {
    expect(
      requirementsOf(
        "# comment\nnumpy==1.26.4\nFastAPI[all] >= 0.110 ; python_version>'3'\n-r other.txt\nuvicorn  # server\nzope.interface===6.0\n",
      ),
    ).toEqual({ numpy: "1.26.4", fastapi: ">= 0.110", uvicorn: "*", "zope-interface": "6.0" });
  });

  it("reads environment.yml's conda packages and its pip section apart", () => {
    expect(
      environmentOf({
        dependencies: [
          "python=3.11",
          "conda-forge::numba =0.60.0",
          "scipy>=1.11",
          { pip: ["flask==3.0.3"] },
        ],
      }),
    ).toEqual({ python: "3.11", numba: "0.60.0", scipy: ">=1.11", "pip:flask": "3.0.3" });
    expect(environmentOf({ name: "x" })).toEqual({});
  });

  it("reads a conda-lock file's exact versions for one platform", () => {
    const lock = {
      package: [
        { name: "numpy", version: "1.26.4", platform: "linux-64", manager: "conda" },
        { name: "numpy", version: "1.26.4", platform: "osx-arm64", manager: "conda" },
        { name: "Flask", version: "3.0.3", platform: "linux-64", manager: "pip" },
      ],
    };
    expect(condaLockOf(lock, "linux-64")).toEqual({ numpy: "1.26.4", "pip:flask": "3.0.3" });
  });
});

describe("rebuildReasons", () => {
  it("says nothing when the key is unchanged, and so in one line", () => {
    expect(rebuildReasons(record(), record())).toEqual([]);
    expect(rebuildLine("vectors", [])).toBe("vectors: no rebuild (build key unchanged)");
  });

  it("names dependency changes as package diffs, not as a changed requirements file", () => {
    const next = record({
      key: "k2",
      dependencies: { numpy: "2.0.1", httpx: "0.28.1" },
      files: { ...record().files, "requirements.txt": "r2" },
    });
    expect(rebuildReasons(record(), next)).toEqual([
      "dependencies: - fastapi 0.115.0, + httpx 0.28.1, numpy 1.26.4 -> 2.0.1",
    ]);
  });

  it("counts code changes and names the first few paths", () => {
    const files = { ...record().files, "vectors/main.py": "m2", "vectors/api.py": "a2" };
    const next = record({
      key: "k2",
      files: { ...files, "vectors/new.py": "n1", "vectors/more.py": "o1" },
    });
    expect(rebuildReasons(record(), next)).toEqual([
      "code: 4 files changed (vectors/api.py, vectors/main.py, +vectors/more.py and 1 more)",
    ]);
  });

  it("names a base image whose digest moved, and a changed setting by its key", () => {
    const next = record({
      key: "k2",
      baseImages: { "python:3.11-slim-bookworm": `sha256:${"b".repeat(64)}` },
      settings: { "build.platforms": "linux/amd64,linux/arm64", "build.aptPackages": "libgomp1" },
    });
    expect(rebuildReasons(record(), next)).toEqual([
      "base image python:3.11-slim-bookworm moved: sha256:aaaaaaaaaaaa -> sha256:bbbbbbbbbbbb",
      "setting build.aptPackages: (unset) -> libgomp1",
      "setting build.platforms: linux/amd64 -> linux/amd64,linux/arm64",
    ]);
  });

  it("explains a first build and a key that moved with nothing else", () => {
    expect(rebuildReasons(undefined, record())).toEqual([
      "first build (no earlier build recorded)",
    ]);
    expect(rebuildReasons(record(), record({ key: "k2" }))).toEqual([
      "the image recipe changed (a newer pyfleet)",
    ]);
    expect(rebuildLine("vectors", ["code: 1 file changed (app.py)"])).toBe(
      "vectors: rebuilds because code: 1 file changed (app.py)",
    );
  });
});

describe("buildRecord", () => {
  const spec = {
    app: "vectors",
    flavour: "pip" as const,
    kind: "fastapi" as const,
    entrypoint: "vectors.main:app",
    port: 8000,
    startupBudgetSeconds: 60,
    uid: 10001,
    baseImages: { python: "python:3.11-slim-bookworm", condaBuilder: "x", condaRuntime: "y" },
  };
  const input = (over: Partial<BuildRecordInput> = {}): BuildRecordInput => ({
    spec,
    dockerfile: "FROM python:3.11-slim-bookworm\n",
    target: "production",
    platforms: ["linux/amd64"],
    buildArgs: { SOURCE_DATE_EPOCH: "1796036400" },
    labels: {
      "org.opencontainers.image.title": "vectors",
      "org.opencontainers.image.revision": "a".repeat(40),
      "org.opencontainers.image.created": "2026-11-30T11:00:00Z",
    },
    contexts: {
      ".": [{ path: "requirements.txt", kind: "file", mode: "644", sha256: "f".repeat(64) }],
    },
    readFile: (p) => (p === "requirements.txt" ? "numpy==1.26.4\n" : undefined),
    parseYaml: () => ({}),
    ...over,
  });

  it("keeps per-commit values out of the key: another commit of the same tree, one key", () => {
    const later = input({
      buildArgs: { SOURCE_DATE_EPOCH: "1796122800" },
      labels: {
        "org.opencontainers.image.title": "vectors",
        "org.opencontainers.image.revision": "b".repeat(40),
        "org.opencontainers.image.created": "2026-12-01T11:00:00Z",
      },
    });
    expect(buildRecord(later).key).toBe(buildRecord(input()).key);
    expect(buildRecord(input()).dependencies).toEqual({ numpy: "1.26.4" });
  });

  it("moves the key with what shapes the image, and says which setting", () => {
    const apt = input({ spec: { ...spec, aptPackages: ["libgomp1"] } });
    expect(buildRecord(apt).key).not.toBe(buildRecord(input()).key);
    expect(rebuildReasons(buildRecord(input()), buildRecord(apt))).toEqual([
      "setting build.aptPackages:  -> libgomp1",
    ]);
    const pinned = input({
      spec: {
        ...spec,
        baseImages: { ...spec.baseImages, python: `python@sha256:${"c".repeat(64)}` },
      },
    });
    expect(buildRecord(pinned).baseImages).toMatchObject({
      [`python@sha256:${"c".repeat(64)}`]: `sha256:${"c".repeat(64)}`,
    });
  });
});

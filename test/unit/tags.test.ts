import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SHORT_SHA_LENGTH, computeTags, digestRef, ociLabels, revisionTag } from "../../model/tags";
import {
  TAG_PATTERN,
  cpuMillis,
  isCpuQuantity,
  isMemoryQuantity,
  memoryBytes,
  validateTagPart,
} from "../../policy/vocabulary";
import { pyprojectVersion } from "../../stacks/settings";

const sha = fc.stringMatching(/^[0-9a-f]{40}$/);
const version = fc.stringMatching(
  /^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(-[a-z0-9]{1,8}(\.[0-9]{1,3})?)?$/,
);
const base = {
  app: "api",
  repository: "registry.example.com/team/api",
  environment: "dev",
  allowDirty: true,
  requireVersion: false,
};

describe("computeTags", () => {
  it("yields version, sha-<short> and environment tags, all valid, for any version and SHA", () => {
    fc.assert(
      fc.property(version, sha, fc.boolean(), (v, s, dirty) => {
        const result = computeTags({ ...base, version: v, revision: { sha: s, dirty } });
        const shaTag = `sha-${s.slice(0, SHORT_SHA_LENGTH)}${dirty ? "-dirty" : ""}`;
        expect(result.tags).toEqual([v, shaTag, "dev"]);
        expect(result.refs).toEqual(result.tags.map((t) => `${base.repository}:${t}`));
        for (const tag of result.tags) expect(tag).toMatch(TAG_PATTERN);
      }),
    );
  });

  it("accepts exactly the strings of Docker's tag grammar as versions", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 140 }), (candidate) => {
        const valid = TAG_PATTERN.test(candidate) && candidate !== "latest";
        expect(validateTagPart(candidate) === undefined).toBe(valid);
      }),
    );
  });

  it("refuses dirty, unversioned or revisionless builds under a strict policy", () => {
    const strict = { ...base, environment: "prod", allowDirty: false, requireVersion: true };
    fc.assert(
      fc.property(sha, (s) => {
        expect(() =>
          computeTags({ ...strict, version: "1.0.0", revision: { sha: s, dirty: true } }),
        ).toThrow('app "api" has uncommitted changes and prod refuses dirty builds');
        expect(() => computeTags({ ...strict, revision: { sha: s, dirty: false } })).toThrow(
          'app "api" has no version and prod refuses unversioned builds',
        );
      }),
    );
    expect(() => computeTags({ ...strict, version: "1.0.0" })).toThrow(
      'app "api" has no git revision and prod only builds committed code',
    );
  });

  it("rejects invalid versions and SHAs with the reason", () => {
    expect(() => computeTags({ ...base, version: "latest" })).toThrow(
      'is "latest", which is mutable',
    );
    expect(() => computeTags({ ...base, version: "-1" })).toThrow("is not a valid image tag");
    expect(() => revisionTag({ sha: "XYZ", dirty: false })).toThrow('invalid git SHA "XYZ"');
  });

  it("omits the version tag in dev when there is none", () => {
    expect(computeTags({ ...base, revision: { sha: "a".repeat(40), dirty: false } }).tags).toEqual([
      "sha-aaaaaaa",
      "dev",
    ]);
  });
});

describe("digest references and labels", () => {
  it("builds repo@digest and rejects anything else", () => {
    expect(digestRef("r/a", `sha256:${"0".repeat(64)}`)).toBe(`r/a@sha256:${"0".repeat(64)}`);
    expect(() => digestRef("r/a", "latest")).toThrow('invalid image digest "latest"');
  });

  it("sets the OCI labels it knows and leaves out the rest", () => {
    expect(
      ociLabels({
        title: "api",
        description: "d",
        version: "1.0.0",
        revision: "abc",
        created: "2026-01-01T00:00:00Z",
        licenses: "MIT",
      }),
    ).toEqual({
      "org.opencontainers.image.title": "api",
      "org.opencontainers.image.description": "d",
      "org.opencontainers.image.version": "1.0.0",
      "org.opencontainers.image.revision": "abc",
      "org.opencontainers.image.created": "2026-01-01T00:00:00Z",
      "org.opencontainers.image.licenses": "MIT",
    });
    expect(Object.keys(ociLabels({ title: "api", description: "d", source: "" }))).toHaveLength(2);
  });
});

describe("quantities and versions", () => {
  it("parses CPU and memory quantities", () => {
    expect(cpuMillis("250m")).toBe(250);
    expect(cpuMillis("1.5")).toBe(1500);
    expect(memoryBytes("512Mi")).toBe(512 * 2 ** 20);
    expect(memoryBytes("1G")).toBe(1e9);
    for (const bad of ["2 GB", "1.5x", "", "Mi", "-1Gi"]) expect(isMemoryQuantity(bad)).toBe(false);
    for (const bad of ["two", "1 m", "", "-1"]) expect(isCpuQuantity(bad)).toBe(false);
    expect(() => memoryBytes("2 GB")).toThrow('invalid memory quantity "2 GB"');
    expect(() => cpuMillis("x")).toThrow('invalid CPU quantity "x"');
  });

  it("orders memory quantities consistently across suffixes", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4096 }), (n) => {
        expect(memoryBytes(`${n}Mi`)).toBeLessThan(memoryBytes(`${n}Gi`));
        expect(memoryBytes(`${n * 1024}Mi`)).toBe(memoryBytes(`${n}Gi`));
      }),
    );
  });

  it("reads [project].version only", () => {
    expect(
      pyprojectVersion('[tool.x]\nversion = "9"\n[project]\nname = "a"\nversion = "1.2.3"\n'),
    ).toBe("1.2.3");
    expect(pyprojectVersion('[tool.x]\nversion = "9"\n')).toBeUndefined();
  });
});

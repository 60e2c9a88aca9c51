/**
 * The supply chain's judgement (model/supplyChain.ts): osv-scanner's real report read into
 * findings, the per-environment threshold, exceptions that expire, and refusals that name the
 * app, the digest, the advisory and the fix.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  atOrAbove,
  findingsOf,
  judgeScan,
  refusalOf,
  sbomForDatabase,
  severityOf,
  summarize,
  uncheckedEcosystems,
  type ScanResult,
} from "../../model/supplyChain";
import type { VulnerabilityPolicy } from "../../stacks/types";

// A report osv-scanner 2.5 wrote for an SBOM listing werkzeug 3.0.1 against one advisory.
const REPORT = readFileSync(
  path.join(__dirname, "..", "fixtures", "supplyChain", "osv-report.json"),
  "utf8",
);
const DIGEST = `sha256:${"a".repeat(64)}`;
const NOW = new Date("2026-12-02T12:00:00Z");

function scan(): ScanResult {
  return { at: NOW.toISOString(), findings: findingsOf(REPORT), unchecked: [] };
}
const policy = (p: Partial<VulnerabilityPolicy>): VulnerabilityPolicy => ({
  refuseAt: "high",
  exceptions: {},
  ...p,
});

describe("findings from osv-scanner's report", () => {
  it("reads the advisory, its package, severity and fix", () => {
    expect(findingsOf(REPORT)).toEqual([
      {
        id: "GHSA-2g68-c3qc-8985",
        aliases: ["CVE-2024-34069"],
        package: "werkzeug",
        version: "3.0.1",
        ecosystem: "PyPI",
        severity: "high",
        fixed: "3.0.3",
        summary:
          "Werkzeug debugger vulnerable to remote execution when interacting with attacker controlled domain",
      },
    ]);
  });

  it("reads an empty report as no findings", () => {
    expect(findingsOf('{"results": []}')).toEqual([]);
    expect(findingsOf("")).toEqual([]);
  });

  it("bands CVSS scores, and falls back to the advisory's word", () => {
    expect(severityOf("9.8")).toBe("critical");
    expect(severityOf("7.5")).toBe("high");
    expect(severityOf("4.4")).toBe("medium");
    expect(severityOf("2.0")).toBe("low");
    expect(severityOf("", "MODERATE")).toBe("medium");
    expect(severityOf(undefined)).toBe("unknown");
  });

  it("names the ecosystems the database could not check", () => {
    const stderr =
      "could not load db for Debian ecosystem: x\nLoaded PyPI local db\ncould not load db for Debian ecosystem: y\n";
    expect(uncheckedEcosystems(stderr)).toEqual(["Debian"]);
  });
});

describe("the gate per environment", () => {
  it("blocks at or above the threshold only", () => {
    expect(atOrAbove("high", "high")).toBe(true);
    expect(atOrAbove("high", "critical")).toBe(false);
    expect(atOrAbove("critical", "never")).toBe(false);
    expect(atOrAbove("unknown", "low")).toBe(true);
    expect(judgeScan(scan(), policy({ refuseAt: "critical" }), NOW).blocking).toEqual([]);
    expect(judgeScan(scan(), policy({ refuseAt: "never" }), NOW).reported).toHaveLength(1);
    expect(judgeScan(scan(), policy({}), NOW).blocking).toHaveLength(1);
  });

  it("lets an advisory through under an unexpired exception, by id or alias", () => {
    for (const id of ["GHSA-2g68-c3qc-8985", "CVE-2024-34069"]) {
      const verdict = judgeScan(
        scan(),
        policy({ exceptions: { [id]: { reason: "debugger never on", expires: "2026-12-02" } } }),
        NOW,
      );
      expect(verdict.blocking).toEqual([]);
      expect(verdict.excepted.map((e) => e.reason)).toEqual(["debugger never on"]);
    }
  });

  it("refuses once the exception has expired, and says so", () => {
    const p = policy({
      exceptions: { "GHSA-2g68-c3qc-8985": { reason: "debugger never on", expires: "2026-12-01" } },
    });
    const verdict = judgeScan(scan(), p, NOW);
    expect(verdict.blocking).toHaveLength(1);
    expect(refusalOf("vectors", DIGEST, verdict, p)).toBe(
      `app "vectors": ${DIGEST} has 1 advisory at or above high:\n` +
        "      GHSA-2g68-c3qc-8985 (high) in werkzeug 3.0.1, fixed in 3.0.3 (its exception expired on 2026-12-01)\n" +
        "    upgrade werkzeug to 3.0.3 and build again, or record an exception with its reason and end " +
        'date in pyfleet:vulnerabilities.exceptions.GHSA-2g68-c3qc-8985 ({"reason": "...", "expires": "YYYY-MM-DD"})',
    );
  });

  it("has nothing to say when nothing blocks", () => {
    const p = policy({ refuseAt: "critical" });
    expect(refusalOf("vectors", DIGEST, judgeScan(scan(), p, NOW), p)).toBeUndefined();
  });

  it("summarizes a scan for the outputs", () => {
    expect(summarize(scan())).toBe("1 advisory (1 high): GHSA-2g68-c3qc-8985");
    expect(summarize({ ...scan(), findings: [], unchecked: ["Debian"] })).toBe(
      "no known advisories (not checked: Debian)",
    );
  });
});

describe("the SBOM a database can judge", () => {
  const purl = (p: string) => ({
    externalRefs: [
      { referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: p },
    ],
  });
  const sbom = JSON.stringify({
    spdxVersion: "SPDX-2.3",
    packages: [
      { name: "image" },
      { name: "werkzeug", ...purl("pkg:pypi/werkzeug@3.0.1") },
      { name: "bash", ...purl("pkg:deb/debian/bash@5.2.15-2%2Bb7?distro=debian-12") },
    ],
  });

  it("keeps the ecosystems the database has, and names the others", () => {
    const judged = sbomForDatabase(sbom, ["PyPI"]);
    expect(judged.unchecked).toEqual(["Debian"]);
    const names = (JSON.parse(judged.sbom) as { packages: { name: string }[] }).packages.map(
      (p) => p.name,
    );
    expect(names).toEqual(["image", "werkzeug"]);
    expect(sbomForDatabase(sbom, ["PyPI", "Debian"]).unchecked).toEqual([]);
  });
});

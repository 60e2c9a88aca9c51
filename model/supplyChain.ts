/**
 * The supply chain's judgement, pure: what a vulnerability scan of an image's SBOM found, which
 * findings block this environment (its severity threshold, less the recorded exceptions that
 * have not expired), and what a verification refusal says. The scans and signatures themselves
 * run in components/supplyChain.ts; times and tool output come in as values.
 */
import type { Severity, VulnerabilityPolicy } from "../stacks/types";

/** Severities from least to most severe; `never` as a threshold blocks nothing. */
export const SEVERITIES: readonly Severity[] = ["low", "medium", "high", "critical"];

/** One advisory affecting one package of the image. */
export interface Finding {
  /** Advisory id (`GHSA-...`, `PYSEC-...`, `CVE-...`). */
  id: string;
  /** Other ids of the same advisory. */
  aliases: string[];
  /** Package name and version as the SBOM lists them. */
  package: string;
  version: string;
  /** Ecosystem (`PyPI`, `Debian`, ...). */
  ecosystem: string;
  severity: Severity | "unknown";
  /** The first version that fixes it, when the advisory names one. */
  fixed?: string;
  summary: string;
}

/** What a scan of one image found, as the stack outputs record it. */
export interface ScanResult {
  /** ISO time of the scan. */
  at: string;
  findings: Finding[];
  /** Ecosystems of the SBOM the database has no advisories file for (not checked). */
  unchecked: string[];
}

/** The verdict on one scan for one environment. */
export interface ScanVerdict {
  /** Findings at or above the threshold, with no live exception. */
  blocking: Finding[];
  /** Findings below the threshold (reported, not blocking). */
  reported: Finding[];
  /** Findings an unexpired exception lets through, with its reason. */
  excepted: { finding: Finding; reason: string; expires: string }[];
  /** Exceptions past their date that would have let a finding through. */
  expired: { id: string; expires: string }[];
}

/** A CVSS v3/v4 base-score band as OSV reports it (`max_severity`), or a GHSA word. */
export function severityOf(score: string | undefined, label?: string): Severity | "unknown" {
  const value = score !== undefined && score.trim() !== "" ? Number(score) : NaN;
  if (Number.isFinite(value)) {
    if (value >= 9) return "critical";
    if (value >= 7) return "high";
    if (value >= 4) return "medium";
    if (value > 0) return "low";
  }
  switch ((label ?? "").toUpperCase()) {
    case "CRITICAL":
      return "critical";
    case "HIGH":
      return "high";
    case "MODERATE":
    case "MEDIUM":
      return "medium";
    case "LOW":
      return "low";
    default:
      return "unknown";
  }
}

interface OsvVulnerability {
  id: string;
  aliases?: string[];
  summary?: string;
  affected?: {
    package?: { name?: string; ecosystem?: string };
    ranges?: { events?: { fixed?: string }[] }[];
  }[];
  database_specific?: { severity?: string };
}

interface OsvReport {
  results?: {
    packages?: {
      package: { name: string; version: string; ecosystem: string };
      vulnerabilities?: OsvVulnerability[];
      groups?: { ids: string[]; aliases?: string[]; max_severity?: string }[];
    }[];
  }[];
}

/** The findings of osv-scanner's `--format json` report, one per advisory group and package. */
export function findingsOf(report: string): Finding[] {
  const parsed = (report.trim() === "" ? {} : JSON.parse(report)) as OsvReport;
  const findings: Finding[] = [];
  for (const result of parsed.results ?? []) {
    for (const pkg of result.packages ?? []) {
      const vulns = pkg.vulnerabilities ?? [];
      const groups = pkg.groups ?? vulns.map((v) => ({ ids: [v.id], aliases: v.aliases ?? [] }));
      for (const group of groups) {
        const members = vulns.filter((v) => group.ids.includes(v.id));
        const lead = members[0] ?? { id: group.ids[0] ?? "unknown" };
        const fixed = members
          .flatMap((v) => v.affected ?? [])
          .filter((a) => (a.package?.name ?? "").toLowerCase() === pkg.package.name.toLowerCase())
          .flatMap((a) => a.ranges ?? [])
          .flatMap((r) => r.events ?? [])
          .map((e) => e.fixed)
          .find((f): f is string => f !== undefined);
        const ids = [...new Set([...group.ids, ...(group.aliases ?? [])])];
        findings.push({
          id: lead.id,
          aliases: ids.filter((id) => id !== lead.id).sort(),
          package: pkg.package.name,
          version: pkg.package.version,
          ecosystem: pkg.package.ecosystem,
          severity: severityOf(
            "max_severity" in group ? group.max_severity : undefined,
            members.map((v) => v.database_specific?.severity).find((s) => s !== undefined),
          ),
          ...(fixed !== undefined ? { fixed } : {}),
          summary: lead.summary ?? "",
        });
      }
    }
  }
  return findings.sort((a, b) => a.id.localeCompare(b.id) || a.package.localeCompare(b.package));
}

/** Whether `severity` is at or above `threshold` (`never` blocks nothing; unknown blocks at low). */
export function atOrAbove(severity: Severity | "unknown", threshold: Severity | "never"): boolean {
  if (threshold === "never") return false;
  const rank = severity === "unknown" ? 0 : SEVERITIES.indexOf(severity);
  return rank >= SEVERITIES.indexOf(threshold);
}

/** Sorts a scan's findings into blocking, reported and excepted for one environment at `now`. */
export function judgeScan(scan: ScanResult, policy: VulnerabilityPolicy, now: Date): ScanVerdict {
  const verdict: ScanVerdict = { blocking: [], reported: [], excepted: [], expired: [] };
  const today = now.toISOString().slice(0, 10);
  for (const finding of scan.findings) {
    if (!atOrAbove(finding.severity, policy.refuseAt)) {
      verdict.reported.push(finding);
      continue;
    }
    const exception = [finding.id, ...finding.aliases]
      .map((id) => ({ id, rule: policy.exceptions[id] }))
      .find((e) => e.rule !== undefined);
    if (exception?.rule !== undefined && exception.rule.expires >= today) {
      verdict.excepted.push({ finding, ...exception.rule });
      continue;
    }
    if (exception?.rule !== undefined) {
      verdict.expired.push({ id: exception.id, expires: exception.rule.expires });
    }
    verdict.blocking.push(finding);
  }
  return verdict;
}

/** One finding as messages name it: id, package, version, severity and the fix. */
export function describeFinding(f: Finding): string {
  const fix = f.fixed !== undefined ? `, fixed in ${f.fixed}` : ", no fixed version yet";
  return `${f.id} (${f.severity}) in ${f.package} ${f.version}${fix}`;
}

/** Why a verdict refuses, or undefined when nothing blocks. */
export function refusalOf(
  app: string,
  digest: string,
  verdict: ScanVerdict,
  policy: VulnerabilityPolicy,
): string | undefined {
  if (verdict.blocking.length === 0) return undefined;
  const expired = new Map(verdict.expired.map((e) => [e.id, e.expires]));
  const lines = verdict.blocking.map((f) => {
    const lapsed = [f.id, ...f.aliases].find((id) => expired.has(id));
    return (
      describeFinding(f) +
      (lapsed !== undefined ? ` (its exception expired on ${expired.get(lapsed)})` : "")
    );
  });
  const first = verdict.blocking[0]!;
  return (
    `app "${app}": ${digest} has ${verdict.blocking.length} advisor` +
    `${verdict.blocking.length === 1 ? "y" : "ies"} at or above ${policy.refuseAt}:\n` +
    lines.map((l) => `      ${l}`).join("\n") +
    `\n    upgrade ${first.package}${first.fixed !== undefined ? ` to ${first.fixed}` : ""} and ` +
    "build again, or record an exception with its reason and end date in " +
    `pyfleet:vulnerabilities.exceptions.${first.id} ({"reason": "...", "expires": "YYYY-MM-DD"})`
  );
}

/** A one-line summary of a scan for `promote` and the outputs: counts per severity. */
export function summarize(scan: ScanResult): string {
  if (scan.findings.length === 0) {
    return `no known advisories${scan.unchecked.length > 0 ? ` (not checked: ${scan.unchecked.join(", ")})` : ""}`;
  }
  const counts = new Map<string, number>();
  for (const f of scan.findings) counts.set(f.severity, (counts.get(f.severity) ?? 0) + 1);
  const order = [...SEVERITIES].reverse().concat(["unknown"] as never[]);
  const parts = order.filter((s) => counts.has(s)).map((s) => `${counts.get(s)} ${s}`);
  return (
    `${scan.findings.length} advisor${scan.findings.length === 1 ? "y" : "ies"} (${parts.join(", ")}): ` +
    scan.findings.map((f) => f.id).join(", ") +
    (scan.unchecked.length > 0 ? `; not checked: ${scan.unchecked.join(", ")}` : "")
  );
}

/** The OSV ecosystem (its export folder) of each package URL type syft writes. */
const ECOSYSTEMS: Readonly<Record<string, string>> = {
  pypi: "PyPI",
  deb: "Debian",
  npm: "npm",
  golang: "Go",
  maven: "Maven",
  cargo: "crates.io",
  gem: "RubyGems",
  apk: "Alpine",
  nuget: "NuGet",
  composer: "Packagist",
  hex: "Hex",
  pub: "Pub",
};

interface SpdxPackage {
  externalRefs?: { referenceType?: string; referenceLocator?: string }[];
}

/**
 * The SBOM with only the packages the database can judge, and the ecosystems left out. A
 * scanner given a package of an ecosystem it has no advisories for fails the whole scan, so
 * each ecosystem is either checked or named as not checked.
 */
export function sbomForDatabase(
  sbom: string,
  available: readonly string[],
): { sbom: string; unchecked: string[] } {
  const doc = JSON.parse(sbom) as { packages?: SpdxPackage[] };
  const unchecked = new Set<string>();
  const kept = (doc.packages ?? []).filter((pkg) => {
    const purl = pkg.externalRefs?.find((r) => r.referenceType === "purl")?.referenceLocator;
    // The image itself (pkg:oci) has no advisories of its own.
    if (purl === undefined || purl.startsWith("pkg:oci/")) return true;
    const type = /^pkg:([^/]+)\//.exec(purl)?.[1] ?? "";
    const ecosystem = ECOSYSTEMS[type] ?? type;
    if (available.includes(ecosystem)) return true;
    unchecked.add(ecosystem);
    return false;
  });
  return { sbom: JSON.stringify({ ...doc, packages: kept }), unchecked: [...unchecked].sort() };
}

/** The ecosystems osv-scanner said it has no database for, from its stderr. */
export function uncheckedEcosystems(stderr: string): string[] {
  const found = [...stderr.matchAll(/could not load db for (\S+) ecosystem/g)].map((m) => m[1]!);
  return [...new Set(found)].sort();
}

/** What a promoting stack verified of one digest before deploying it (the outputs record it). */
export interface Evidence {
  /** `<repository>@sha256:...` the evidence is about. */
  evidenceOf: string;
  /** Whether its signature verified against the configured public key. */
  signed: boolean;
  /** sha256 of the public key's PEM the signature verified against. */
  signer: string;
  /** The SBOM from its signed attestation: format, sha256 of the document, package count. */
  sbom: { format: "spdx-json"; sha256: string; packages: number };
  /** The vulnerability scan of that SBOM, if a database is configured. */
  vulnerabilities?: ScanResult & { summary: string };
}

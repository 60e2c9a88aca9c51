import { describe, expect, it } from "vitest";
import {
  creatingCommand,
  formatGates,
  formatPlan,
  promotionChoices,
  promotionPlan,
  formatSupplyChain,
} from "../../cli/promotionPlan";
import { devOutputs } from "../support/fixtures";
import { fakeDigest } from "../support/mocks";

describe("promotionPlan", () => {
  it("shows old -> new version, SHA and digest per app, and what stays", () => {
    const source = devOutputs("staging");
    const target = devOutputs("prod");
    target["vectors"] = {
      ...target["vectors"]!,
      version: "0.3.0",
      revision: "1".repeat(40),
      digest: fakeDigest("vectors-0.3.0"),
    };
    delete target["science"];
    const rows = promotionPlan(source, target);
    expect(rows).toEqual([
      {
        app: "dashboard",
        from: expect.stringContaining("1.2.0 · sha-89abcde"),
        to: expect.any(String),
        changes: false,
      },
      {
        app: "vectors",
        from: `0.3.0 · sha-1111111 · ${fakeDigest("vectors-0.3.0").slice(0, 19)}`,
        to: `0.3.1 · sha-89abcde · ${fakeDigest("vectors").slice(0, 19)}`,
        changes: true,
      },
      { app: "science", from: "not deployed", to: expect.stringContaining("0.9.0"), changes: true },
    ]);
    const text = formatPlan("staging", "prod", rows);
    expect(text).toContain("Promotion staging -> prod:");
    expect(text).toMatch(/vectors\s+0\.3\.0 · sha-1111111 · sha256:\w+ {2}-> {2}0\.3\.1/);
    expect(text).toMatch(/dashboard\s+1\.2\.0 .* \(unchanged\)/);
  });

  it("flags apps the source no longer has", () => {
    const rows = promotionPlan({}, devOutputs("prod"));
    expect(rows.every((r) => r.changes && r.to === "removed (not in the source stack)")).toBe(true);
  });
});

describe("creatingCommand", () => {
  it("names the command that creates a missing source stack", () => {
    expect(creatingCommand("dev", "build")).toBe("npm run up -- dev --yes");
    expect(creatingCommand("staging", "promote")).toBe("npm run promote -- staging");
  });
});

describe("promotionChoices", () => {
  const source = devOutputs("staging");
  const since = (minutes: number) => new Date(Date.UTC(2026, 11, 1, 12, 0) - minutes * 60_000);
  const now = since(0);
  source["vectors"] = {
    ...source["vectors"]!,
    history: [{ digest: source["vectors"]!.digest, since: since(45).toISOString() }],
  };
  source["dashboard"] = {
    ...source["dashboard"]!,
    history: [{ digest: source["dashboard"]!.digest, since: since(5).toISOString() }],
  };
  const policy = {
    pins: {},
    rollback: {},
    requireSourceMatch: true,
    gates: { soakMs: 30 * 60_000, requireVerified: false },
  };

  it("shows every gate's state and refuses, per app, what the gates hold back", () => {
    const c = promotionChoices(["vectors", "dashboard"], "staging", source, policy, now);
    expect(Object.keys(c.chosen)).toEqual(["vectors"]);
    expect(c.refusals["dashboard"]).toMatch(/ran 5m of the 30m soak on staging/);
    expect(formatGates(c.promoted)).toBe(
      "Gates:\n" +
        `  vectors ${source["vectors"]!.digest.slice(0, 19)}:\n` +
        `    ok   soaked: ran 45m on staging (since ${since(45).toISOString()}), soak is 30m`,
    );
  });

  it("prints no gates where none apply", () => {
    const open = { ...policy, gates: { soakMs: 0, requireVerified: false } };
    const c = promotionChoices(["vectors"], "staging", source, open, now);
    expect(c.refusals).toEqual({});
    expect(formatGates(c.promoted)).toBe("");
  });
});

describe("the supply chain before asking", () => {
  const digest = fakeDigest("vectors");
  const promoted = {
    vectors: {
      image: `127.0.0.1:5000/pyfleet/vectors@${digest}`,
      repository: "127.0.0.1:5000/pyfleet/vectors",
      digest,
      source: { stack: "staging", kind: "promotion" as const },
    },
  };
  const recorded = {
    signed: true,
    signer: "ab".repeat(32),
    sbom: { format: "spdx-json" as const, sha256: "c".repeat(64), packages: 131 },
    vulnerabilities: {
      at: "2026-12-02T10:00:00.000Z",
      findings: [],
      unchecked: ["Debian"],
      summary: "no known advisories (not checked: Debian)",
    },
  };
  const sourceWith = (chain?: typeof recorded) => ({
    vectors: {
      image: promoted.vectors.image,
      digest,
      repository: promoted.vectors.repository,
      tags: [],
      namespace: "pyfleet-staging",
      source: { stack: "dev", kind: "promotion" as const },
      ...(chain ? { supplyChain: chain } : {}),
    },
  });

  it("shows signature, SBOM and scan as the source recorded them", () => {
    expect(formatSupplyChain(promoted, sourceWith(recorded))).toBe(
      "Supply chain (as the source recorded it):\n" +
        `  vectors ${digest.slice(0, 19)}:\n` +
        "    ok   signed: key abababababab\n" +
        "    ok   SBOM: spdx-json, 131 packages\n" +
        "    info vulnerabilities: no known advisories (not checked: Debian)",
    );
  });

  it("says the update verifies what the source recorded nothing of", () => {
    expect(formatSupplyChain(promoted, sourceWith())).toContain(
      "nothing recorded by the source; the update verifies it",
    );
  });
});

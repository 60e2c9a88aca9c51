import { describe, expect, it } from "vitest";
import {
  checkPromotions,
  promotedImage,
  qualifiedStackName,
  splitDigestRef,
} from "../../model/promotion";
import { devOutputs } from "../support/fixtures";
import { fakeDigest } from "../support/mocks";

const staging = devOutputs("staging");
const open = { pins: {}, rollback: {}, requireSourceMatch: false };
const guarded = { ...open, requireSourceMatch: true };
const older = `localhost:5000/pyfleet/vectors@${fakeDigest("vectors-0.3.0")}`;

describe("promotedImage", () => {
  it("takes exactly the digest, version and SHA the source stack runs", () => {
    expect(promotedImage("vectors", "staging", staging, guarded)).toEqual({
      image: staging["vectors"]!.image,
      repository: "localhost:5000/pyfleet/vectors",
      digest: fakeDigest("vectors"),
      version: "0.3.1",
      revision: "89abcdef0123456789abcdef0123456789abcdef",
      source: { stack: "staging", kind: "promotion" },
    });
  });

  it("fails with the app's name when the source stack lacks it", () => {
    expect(() => promotedImage("reports", "staging", staging, guarded)).toThrow(
      'app "reports" is missing from the outputs of stack "staging" (it exports: dashboard, vectors, science); deploy it to staging first, or pin a digest with pyfleet:images.pins.reports',
    );
    expect(() => promotedImage("reports", "dev", undefined, open)).toThrow(
      'app "reports" is missing from the outputs of stack "dev" (it exports: no apps)',
    );
  });

  it("lets a stack without the guard pin another digest", () => {
    const result = promotedImage("vectors", "dev", staging, { ...open, pins: { vectors: older } });
    expect(result).toEqual({
      image: older,
      repository: "localhost:5000/pyfleet/vectors",
      digest: fakeDigest("vectors-0.3.0"),
      source: { stack: "dev", kind: "pin" },
    });
  });

  it("prod refuses a digest staging does not run, naming both digests", () => {
    expect(() =>
      promotedImage("vectors", "staging", staging, { ...guarded, pins: { vectors: older } }),
    ).toThrow(
      `app "vectors": ${fakeDigest("vectors-0.3.0")} is not the digest staging runs now (${fakeDigest("vectors")}); promote it to staging first, or roll back explicitly with pyfleet:images.rollback.vectors`,
    );
    // A pin equal to what staging runs is fine.
    expect(
      promotedImage("vectors", "staging", staging, {
        ...guarded,
        pins: { vectors: staging["vectors"]!.image },
      }).digest,
    ).toBe(fakeDigest("vectors"));
  });

  it("rolls back to an explicit earlier digest past the guard", () => {
    const result = promotedImage("vectors", "staging", staging, {
      ...guarded,
      rollback: { vectors: older },
    });
    expect(result.source).toEqual({ stack: "staging", kind: "rollback" });
    expect(result.digest).toBe(fakeDigest("vectors-0.3.0"));
  });

  it("parses digest references and names stacks on any backend", () => {
    expect(() => splitDigestRef("repo:1.0")).toThrow('"repo:1.0" is not a digest reference');
    expect(qualifiedStackName("organization", "pyfleet", "dev")).toBe("organization/pyfleet/dev");
    expect(qualifiedStackName("organization", "pyfleet", "acme/pyfleet/dev")).toBe(
      "acme/pyfleet/dev",
    );
  });
});

describe("checkPromotions", () => {
  it("lists every refused app at once, before anything is created", () => {
    const settings = {
      apps: [{ name: "vectors" }, { name: "reports" }],
      images: {
        mode: "promote" as const,
        fromStack: "staging",
        pins: { vectors: older },
        rollback: {},
        requireSourceMatch: true,
      },
    };
    expect(() => checkPromotions(settings, staging)).toThrow(
      "promotion from staging refused; nothing was changed:\n" +
        `  - app "vectors": ${fakeDigest("vectors-0.3.0")} is not the digest staging runs now (${fakeDigest("vectors")}); promote it to staging first, or roll back explicitly with pyfleet:images.rollback.vectors\n` +
        '  - app "reports" is missing from the outputs of stack "staging" (it exports: dashboard, vectors, science); deploy it to staging first, or pin a digest with pyfleet:images.pins.reports',
    );
    expect(() =>
      checkPromotions({ ...settings, apps: [{ name: "dashboard" }] }, staging),
    ).not.toThrow();
    expect(() =>
      checkPromotions({ apps: [{ name: "x" }], images: { mode: "build" } }, undefined),
    ).not.toThrow();
  });
});

describe("promotedImage through the gates", () => {
  const at = (minute: number) => new Date(Date.UTC(2026, 11, 1, 10, minute)).toISOString();
  const now = new Date(Date.UTC(2026, 11, 1, 11, 0));
  const current = staging["vectors"]!;
  const olderDigest = splitDigestRef(older).digest;
  // staging ran 0.3.0 from 10:00 to 10:50 and verified it; 0.3.1 since 10:50, verified.
  const history = [
    {
      digest: current.digest,
      since: at(50),
      version: "0.3.1",
      verification: { passed: true, at: at(51), failures: [] },
    },
    {
      digest: olderDigest,
      since: at(0),
      until: at(50),
      version: "0.3.0",
      revision: "0123456789abcdef0123456789abcdef01234567",
      verification: { passed: true, at: at(1), failures: [] },
    },
  ];
  const source = { ...staging, vectors: { ...current, history } };
  const soak30 = { ...guarded, gates: { soakMs: 30 * 60_000, requireVerified: true } };

  it("takes the newest digest that soaked, with the version and SHA it was built from", () => {
    expect(promotedImage("vectors", "staging", source, soak30, now)).toEqual({
      image: older,
      repository: "localhost:5000/pyfleet/vectors",
      digest: olderDigest,
      version: "0.3.0",
      revision: "0123456789abcdef0123456789abcdef01234567",
      source: { stack: "staging", kind: "promotion" },
      gates: {
        states: [
          {
            gate: "soaked",
            ok: true,
            detail: `ran 50m on staging (from ${at(0)} to ${at(50)}), soak is 30m`,
          },
          { gate: "verified", ok: true, detail: `verified on staging at ${at(1)}` },
        ],
      },
    });
  });

  it("refuses a pin that has not soaked, and records a break-glass reason that lets it through", () => {
    const pinned = { ...soak30, pins: { vectors: current.image } };
    expect(() => promotedImage("vectors", "staging", source, pinned, now)).toThrow(
      /ran 10m of the 30m soak on staging/,
    );
    const glass = { ...pinned, gates: { ...pinned.gates, breakGlass: { reason: "INC-9" } } };
    const forced = promotedImage("vectors", "staging", source, glass, now);
    expect(forced.digest).toBe(current.digest);
    expect(forced.gates?.brokeGlass).toBe("INC-9");
    expect(forced.source.kind).toBe("pin");
  });

  it("starts the soak now for a source that kept no history", () => {
    expect(() => promotedImage("vectors", "staging", staging, soak30, now)).toThrow(
      /ran 0s of the 30m soak on staging/,
    );
  });

  it("lets a rollback through without a soak, and checks every app before refusing", () => {
    const rolled = { ...soak30, rollback: { vectors: older } };
    expect(promotedImage("vectors", "staging", source, rolled, now).source.kind).toBe("rollback");
    expect(() =>
      checkPromotions(
        {
          apps: [{ name: "vectors" }, { name: "dashboard" }],
          images: { mode: "promote", fromStack: "staging", ...soak30 },
        },
        source,
      ),
    ).toThrow(/refused; nothing was changed:\n {2}- app "dashboard": no digest staging ran/);
  });
});

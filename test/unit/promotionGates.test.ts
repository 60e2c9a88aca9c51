import { describe, expect, it } from "vitest";
import {
  gateStates,
  pickGated,
  recordRun,
  recordVerification,
  type GatePolicy,
  type RunRecord,
} from "../../model/promotionGates";
import { formatDuration, parseDuration } from "../../policy/vocabulary";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;
const C = `sha256:${"c".repeat(64)}`;
const at = (minute: number) => new Date(Date.UTC(2026, 11, 1, 10, minute));
const PROD: GatePolicy = { soakMs: 30 * 60_000, requireVerified: true };
const passed = (minute: number) => ({ passed: true, at: at(minute).toISOString(), failures: [] });

describe("durations", () => {
  it.each([
    ["30m", 1_800_000],
    ["1h30m", 5_400_000],
    ["45s", 45_000],
    ["2d", 172_800_000],
    ["1d2h3m4s", 93_784_000],
    ["0", 0],
  ])("reads %s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "30", "m", "1m1h", "1.5h", "-1m", "30 m", "1w"])("refuses %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it("writes largest units first", () => {
    expect(formatDuration(5_400_000)).toBe("1h30m");
    expect(formatDuration(93_784_999)).toBe("1d2h3m4s");
    expect(formatDuration(0)).toBe("0s");
  });
});

describe("a stage's history of digests", () => {
  it("opens a record for a new digest and closes the one it replaces", () => {
    const one = recordRun([], A, at(0));
    expect(one).toEqual([{ digest: A, since: at(0).toISOString() }]);
    expect(recordRun(one, A, at(5))).toEqual(one);
    const two = recordRun(one, B, at(10));
    expect(two).toEqual([
      { digest: B, since: at(10).toISOString() },
      { digest: A, since: at(0).toISOString(), until: at(10).toISOString() },
    ]);
  });

  it("makes a digest that comes back soak and verify again", () => {
    let h = recordRun([], A, at(0));
    h = recordVerification(h, A, passed(1));
    h = recordRun(h, B, at(40));
    h = recordRun(h, A, at(50));
    expect(h).toEqual([
      { digest: A, since: at(50).toISOString() },
      { digest: B, since: at(40).toISOString(), until: at(50).toISOString() },
    ]);
  });

  it("forgets the oldest beyond its limit", () => {
    let h: RunRecord[] = [];
    for (const [i, d] of [A, B, C].entries()) h = recordRun(h, d, at(i), 2);
    expect(h.map((r) => r.digest)).toEqual([C, B]);
  });

  it("un-verifies a digest whose re-verification fails", () => {
    let h = recordVerification(recordRun([], A, at(0)), A, passed(1));
    h = recordVerification(h, A, { passed: false, at: at(2).toISOString(), failures: ["503"] });
    expect(gateStates(h[0], PROD, "staging", at(59))).toContainEqual({
      gate: "verified",
      ok: false,
      detail: `verification on staging failed at ${at(2).toISOString()}: 503`,
    });
  });
});

describe("picking what a gated stage takes", () => {
  // A ran 0-40 and verified; B runs since 40, verified, not yet soaked at 50.
  const history = recordVerification(
    recordVerification(recordRun(recordRun([], A, at(0)), B, at(40)), A, passed(5)),
    B,
    passed(41),
  );

  it("takes the newest digest that soaked and verified, even after the source moved on", () => {
    const choice = pickGated("vectors", "staging", history, PROD, at(50));
    expect(choice.record.digest).toBe(A);
    expect(choice.brokeGlass).toBeUndefined();
    expect(choice.states.map((s) => [s.gate, s.ok])).toEqual([
      ["soaked", true],
      ["verified", true],
    ]);
    expect(pickGated("vectors", "staging", history, PROD, at(71)).record.digest).toBe(B);
  });

  it("refuses an unsoaked pin, naming the app, the digest and the time left", () => {
    expect(() => pickGated("vectors", "staging", history, PROD, at(50), B)).toThrow(
      /app "vectors": no digest staging ran passes the gates:\n\s+sha256:bbbbbbbbbbbb: ran 10m of the 30m soak on staging/,
    );
  });

  it("refuses a digest the source never ran", () => {
    expect(() => pickGated("vectors", "staging", history, PROD, at(50), C)).toThrow(
      /sha256:cccccccccccc: staging never ran it/,
    );
  });

  it("refuses an unverified digest, and refuses when nothing passes", () => {
    const fresh = recordRun([], C, at(0));
    expect(() => pickGated("web", "staging", fresh, PROD, at(59))).toThrow(
      /sha256:cccccccccccc: not verified on staging yet\n.*pyfleet:images\.breakGlass\.reason/s,
    );
    expect(() => pickGated("web", "staging", [], PROD, at(59))).toThrow(
      /staging records no digest of it/,
    );
  });

  it("breaks glass over soak and verification on record, never over a digest never run", () => {
    const glass = { ...PROD, breakGlass: { reason: "INC-42 hotfix" } };
    const choice = pickGated("vectors", "staging", history, glass, at(50), B);
    expect(choice.record.digest).toBe(B);
    expect(choice.brokeGlass).toBe("INC-42 hotfix");
    expect(() => pickGated("vectors", "staging", history, glass, at(50), C)).toThrow(/never ran/);
    // Nothing closed: glass is not recorded as broken.
    expect(pickGated("vectors", "staging", history, glass, at(50)).brokeGlass).toBeUndefined();
  });

  it("asks nothing when the policy has no soak and no verification", () => {
    const open = { soakMs: 0, requireVerified: false };
    expect(pickGated("web", "dev", recordRun([], C, at(0)), open, at(0)).record.digest).toBe(C);
  });
});

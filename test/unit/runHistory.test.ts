import { describe, expect, it } from "vitest";
import { historyChanges, nextHistory } from "../../components/runHistory";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;
const t = (minute: number) => new Date(Date.UTC(2026, 11, 1, 9, minute));
const passed = { passed: true, at: t(2).toISOString(), failures: [] };

describe("a stage's run history as its resource keeps it", () => {
  it("opens, verifies and closes records across ups", () => {
    const first = nextHistory([], { digest: A, version: "1.0.0" }, t(0));
    expect(first).toEqual([{ digest: A, since: t(0).toISOString(), version: "1.0.0" }]);
    const verified = nextHistory(first, { digest: A, verification: passed }, t(2));
    expect(verified[0]).toMatchObject({ since: t(0).toISOString(), verification: passed });
    const next = nextHistory(verified, { digest: B, revision: "abc" }, t(9));
    expect(next.map((r) => [r.digest, r.since, r.until])).toEqual([
      [B, t(9).toISOString(), undefined],
      [A, t(0).toISOString(), t(9).toISOString()],
    ]);
    expect(next[1]!.verification).toEqual(passed);
  });

  it("changes only for a new digest, limit or verification result", () => {
    expect(historyChanges({ digest: A, version: "1" }, { digest: A, version: "1" })).toBe(false);
    expect(historyChanges({ digest: A }, { digest: B })).toBe(true);
    expect(historyChanges({ digest: A }, { digest: A, verification: passed })).toBe(true);
    expect(
      historyChanges({ digest: A, verification: passed }, { digest: A, verification: passed }),
    ).toBe(false);
    expect(historyChanges({ digest: A }, { digest: A, limit: 3 })).toBe(true);
  });
});

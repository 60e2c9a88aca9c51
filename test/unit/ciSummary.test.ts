import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const SUMMARY = path.resolve(__dirname, "..", "..", "ci", "summary.mjs");
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The lines ci/summary.mjs prints for these reports and harness status. */
function summaryLines(reports: Record<string, unknown>, e2eStatus?: string): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), "pyfleet-summary-"));
  dirs.push(dir);
  mkdirSync(path.join(dir, "reports"));
  for (const [file, doc] of Object.entries(reports)) {
    writeFileSync(path.join(dir, "reports", file), JSON.stringify(doc));
  }
  const env = { ...process.env, PYFLEET_E2E_STATUS: e2eStatus };
  if (e2eStatus === undefined) delete env["PYFLEET_E2E_STATUS"];
  const out = execFileSync(process.execPath, [SUMMARY], { cwd: dir, env, encoding: "utf8" });
  return out.trim().split("\n");
}

/** The last line: `N passed, N failed`. */
function summary(reports: Record<string, unknown>, e2eStatus?: string): string {
  return summaryLines(reports, e2eStatus).pop() ?? "";
}

const vitest = { "vitest.json": { numPassedTests: 3, numFailedTests: 0, numTotalTests: 3 } };

describe("ci/summary.mjs, CI's last line", () => {
  it("adds the harness's checks", () => {
    expect(summary({ ...vitest, "e2e.json": { passed: 5, failed: 1 } }, "1")).toBe(
      "8 passed, 1 failed",
    );
    expect(summary(vitest)).toBe("3 passed, 0 failed");
  });

  it("counts a harness that died without its report, or failed with no failed check", () => {
    expect(summary(vitest, "130")).toBe("3 passed, 1 failed");
    expect(summary({ ...vitest, "e2e.json": { passed: 5, failed: 0 } }, "1")).toBe(
      "8 passed, 1 failed",
    );
    expect(summary({ ...vitest, "e2e.json": { passed: 5, failed: 0 } }, "0")).toBe(
      "8 passed, 0 failed",
    );
  });

  it("says why each check failed, on its one line, and how full the disk is", () => {
    const reason = `Pending:\n FailedScheduling: ${"x".repeat(400)}`;
    const checks = [
      { name: "dashboard is Ready", passed: false, detail: reason },
      { name: "vectors is Ready", passed: true, detail: "1/1 ready" },
    ];
    const lines = summaryLines({ ...vitest, "e2e.json": { passed: 1, failed: 1, checks } }, "1");
    const failed = lines.filter((l) => l.startsWith("e2e failed:"));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(/^e2e failed: dashboard is Ready — Pending: FailedScheduling: x+…$/);
    expect(failed[0]!.length).toBeLessThan(400);
    expect(lines).toContainEqual(expect.stringMatching(/^ci: [\d.]+ GiB of [\d.]+ GiB free/));
    expect(summaryLines(vitest).some((l) => l.includes("GiB free"))).toBe(false);
  });
});

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const SUMMARY = path.resolve(__dirname, "..", "..", "ci", "summary.mjs");
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The last line ci/summary.mjs prints for these reports and harness status. */
function summary(reports: Record<string, unknown>, e2eStatus?: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "pyfleet-summary-"));
  dirs.push(dir);
  mkdirSync(path.join(dir, "reports"));
  for (const [file, doc] of Object.entries(reports)) {
    writeFileSync(path.join(dir, "reports", file), JSON.stringify(doc));
  }
  const env = { ...process.env, PYFLEET_E2E_STATUS: e2eStatus };
  if (e2eStatus === undefined) delete env["PYFLEET_E2E_STATUS"];
  const out = execFileSync(process.execPath, [SUMMARY], { cwd: dir, env, encoding: "utf8" });
  return out.trim().split("\n").pop() ?? "";
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
});

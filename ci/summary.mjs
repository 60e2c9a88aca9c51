// Prints one closing line `N passed, N failed` from vitest's JSON report, the end-to-end
// harness's report and the static checks (type check, lint, format, checker install)
// recorded by ci/test.sh.
import { existsSync, readFileSync, statfsSync } from "node:fs";

/** A failed check's detail on its one line: CI shows the end of its log, so the why goes there. */
const why = (detail) => {
  const text = String(detail ?? "")
    .replace(/\s+/g, " ")
    .trim();
  if (text === "") return "";
  return ` — ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`;
};

let passed = 0;
let failed = 0;
if (existsSync("reports/vitest.json")) {
  const report = JSON.parse(readFileSync("reports/vitest.json", "utf8"));
  passed += report.numPassedTests ?? 0;
  failed += (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0);
  if ((report.numTotalTests ?? 0) === 0) failed += 1;
} else {
  failed += 1;
}
// ci/test.sh passes the harness's exit status (unset when the e2e run was skipped).
const e2eStatus = process.env.PYFLEET_E2E_STATUS;
if (existsSync("reports/e2e.json")) {
  const e2e = JSON.parse(readFileSync("reports/e2e.json", "utf8"));
  passed += e2e.passed ?? 0;
  failed += e2e.failed ?? 0;
  for (const check of e2e.checks ?? []) {
    if (!check.passed) console.log(`e2e failed: ${check.name}${why(check.detail)}`);
  }
  if (e2eStatus !== undefined && e2eStatus !== "0" && (e2e.failed ?? 0) === 0) {
    failed += 1;
    console.log(`e2e failed: the harness exited ${e2eStatus} with no failed check`);
  }
} else if (e2eStatus !== undefined) {
  // A harness that died (killed, out of memory) before its report is a failure, not silence.
  failed += 1;
  console.log(`e2e failed: the harness exited ${e2eStatus} without a report`);
}
if (existsSync("reports/static-checks.tsv")) {
  for (const line of readFileSync("reports/static-checks.tsv", "utf8").split("\n")) {
    const [name, status] = line.split("\t");
    if (!name) continue;
    if (status === "passed") passed += 1;
    else {
      failed += 1;
      console.log(`check failed: ${name}`);
    }
  }
}
if (failed > 0) {
  // A full disk fails much at once (the kubelet taints its node below 2 % free): say how full.
  const fs = statfsSync(".");
  const gib = (blocks) => ((blocks * fs.bsize) / 2 ** 30).toFixed(1);
  console.log(`ci: ${gib(fs.bavail)} GiB of ${gib(fs.blocks)} GiB free on the work disk`);
}
console.log(`${passed} passed, ${failed} failed`);

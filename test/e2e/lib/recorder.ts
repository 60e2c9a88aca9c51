/**
 * The harness's report: every check's verdict in the order it ran, and the figures measured
 * on the way, written to reports/e2e.json in the shape ci/summary.mjs counts
 * (`{ passed, failed, checks: [{ name, passed, detail }], figures }`).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { judge, type Check } from "./check";

/** One recorded verdict. */
export interface CheckRecord {
  /** What was checked, as the report shows it. */
  name: string;
  /** Whether it passed. */
  passed: boolean;
  /** The pass detail or the failure's reason. */
  detail: string;
  /** The id of the check that judged it. */
  check: string;
}

/** Collects verdicts and figures, prints each verdict as it comes. */
export class Recorder {
  /** Verdicts so far. */
  readonly checks: CheckRecord[] = [];
  /** Measured figures (seconds, counts). */
  readonly figures: Record<string, number | string> = {};

  /** Judges `observation` with `check`, records and prints the verdict; returns whether it passed. */
  check<O>(check: Check<O>, name: string, observation: O): boolean {
    const { passed, detail } = judge(check, observation);
    this.checks.push({ name, passed, detail, check: check.id });
    process.stdout.write(`${passed ? "PASS" : "FAIL"} ${name}${detail ? ` — ${detail}` : ""}\n`);
    return passed;
  }

  /** Records a figure. */
  figure(key: string, value: number | string): void {
    this.figures[key] = value;
  }

  /** Counts of passed and failed checks. */
  counts(): { passed: number; failed: number } {
    const passed = this.checks.filter((c) => c.passed).length;
    return { passed, failed: this.checks.length - passed };
  }

  /** Writes the report file and prints the closing lines. */
  write(file: string): void {
    const { passed, failed } = this.counts();
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(
      file,
      JSON.stringify({ passed, failed, checks: this.checks, figures: this.figures }, null, 2),
    );
    process.stdout.write(
      `figures: ${JSON.stringify(this.figures)}\ne2e: ${passed} passed, ${failed} failed\n`,
    );
  }
}

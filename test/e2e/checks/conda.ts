/** The conda flavour for real, as test/e2e/condaImage.ts checks it against the local channel. */
import { defineCheck, ensure } from "../lib/check";
import { tail, type CommandRun } from "./observed";

/** A run of test/e2e/condaImage.ts: its PASS and FAIL lines. */
export interface CondaImageObservation {
  run: CommandRun;
  /** How many PASS lines a complete run prints (build, runtime, hardening, lock). */
  minimum: number;
}

/** The run finished, every check it made passed, and it made all of them. */
export const condaImageWorks = defineCheck<CondaImageObservation>("conda-image-works", (o) => {
  const lines = o.run.stdout.split("\n");
  const failed = lines.filter((l) => l.startsWith("FAIL"));
  const passed = lines.filter((l) => l.startsWith("PASS"));
  ensure(failed.length === 0, `failed: ${failed.join("; ")}`);
  ensure(o.run.status === 0, `the conda e2e exited ${o.run.status}:\n${tail(o.run, 2000)}`);
  ensure(
    passed.length >= o.minimum,
    `only ${passed.length} of ${o.minimum} checks ran: ${tail(o.run, 1500)}`,
  );
  return `${passed.length} checks passed`;
});

/**
 * End-to-end harness on the real engine: the Pulumi CLI and providers built from the Go module
 * proxy, a real dockerd, registry and BuildKit on loopback (infra/localEnv.ts), and the
 * program run exactly as `npm run pulumi` runs it, on a copy of the project in a temporary
 * folder, so changing app code and stack config never touches the checkout.
 *
 *   npm run e2e            (writes reports/e2e.json; prints `e2e: N passed, N failed`)
 *   PYFLEET_E2E_ONLY=engine,preview npm run e2e     (a subset, for working on a scenario)
 *
 * The scenarios (test/e2e/scenarios/) run in order; a scenario that throws ends the run with a
 * failed check. Every process started on the way is stopped by its pid at the end, also when
 * a scenario fails or the harness is interrupted.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ROOT, startLocalEnv } from "../../infra/localEnv";
import { scenarioCompleted } from "./checks";
import { createContext } from "./lib/context";
import { Processes } from "./lib/processes";
import { Recorder } from "./lib/recorder";
import { SCENARIOS } from "./scenarios";

function selected(): typeof SCENARIOS {
  const only = process.env["PYFLEET_E2E_ONLY"];
  if (!only) return SCENARIOS;
  const names = only.split(",").map((n) => n.trim());
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length > 0) {
    throw new Error(
      `PYFLEET_E2E_ONLY names unknown scenarios: ${unknown.join(", ")}; ` +
        `known: ${SCENARIOS.map((s) => s.name).join(", ")}`,
    );
  }
  return SCENARIOS.filter((s) => names.includes(s.name));
}

async function main(): Promise<number> {
  const recorder = new Recorder();
  const processes = new Processes();
  processes.stopOnSignals();
  const work = mkdtempSync(path.join(tmpdir(), "pyfleet-e2e-"));
  processes.onCleanup("work folder", () => rmSync(work, { recursive: true, force: true }));
  const scenarios = selected();
  let current = "start of the local engine";
  try {
    const setupStart = Date.now();
    const local = await startLocalEnv();
    processes.onCleanup("local engine", () => local.stop());
    recorder.figure("setup_seconds", Math.round((Date.now() - setupStart) / 1000));
    current = "setup of the project copy";
    const ctx = createContext(local, work, path.join(ROOT, "reports", "e2e"), processes, recorder);
    for (const scenario of scenarios) {
      current = scenario.name;
      await scenario.run(ctx);
    }
  } catch (error) {
    recorder.check(scenarioCompleted, "harness ran to the end", { scenario: current, error });
  } finally {
    processes.stopAll();
  }
  recorder.write(path.join(ROOT, "reports", "e2e.json"));
  return recorder.counts().failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exitCode = 1;
  },
);

/**
 * End-to-end harness on the real engine: the Pulumi CLI and providers built from the Go module
 * proxy, a real dockerd, registry and BuildKit on loopback (infra/localEnv.ts), and the
 * program run exactly as `npm run pulumi` runs it, on a copy of the project in a temporary
 * folder, so changing app code and stack config never touches the checkout.
 *
 *   npm run e2e            (writes reports/e2e.json; prints `e2e: N passed, N failed`)
 *   PYFLEET_E2E_ONLY=engine,preview npm run e2e     (a subset, for working on a scenario)
 *   PYFLEET_E2E_TARGETS=render npm run e2e          (render mode only; default render,cluster)
 *
 * Two passes, each on its own project copy and backend: render mode (manifests written to
 * folders) runs test/e2e/scenarios/index.ts; cluster mode runs the cluster scenarios against
 * the local k3s-shaped cluster (infra/cluster.sh, started here when it is not running). A
 * scenario that throws ends its pass with a failed check. Every process started on the way is
 * stopped by its pid at the end, also when a scenario fails or the harness is interrupted.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { clusterUnsupported, startCluster } from "../../infra/cluster";
import { ROOT, startLocalEnv } from "../../infra/localEnv";
import { scenarioCompleted } from "./checks";
import { createContext } from "./lib/context";
import { Processes } from "./lib/processes";
import { Recorder } from "./lib/recorder";
import type { Scenario } from "./lib/context";
import { SCENARIOS } from "./scenarios";
import { CLUSTER_SCENARIOS } from "./scenarios/cluster";

const TARGETS = ["render", "cluster"] as const;

function targets(): (typeof TARGETS)[number][] {
  const raw = process.env["PYFLEET_E2E_TARGETS"] ?? TARGETS.join(",");
  const names = raw.split(",").map((n) => n.trim());
  const unknown = names.filter((n) => !(TARGETS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new Error(
      `PYFLEET_E2E_TARGETS names unknown targets: ${unknown.join(", ")}; known: ${TARGETS.join(", ")}`,
    );
  }
  return TARGETS.filter((t) => names.includes(t));
}

function selected(all: readonly Scenario[]): readonly Scenario[] {
  const only = process.env["PYFLEET_E2E_ONLY"];
  if (!only) return all;
  const names = only.split(",").map((n) => n.trim());
  const known = [...SCENARIOS, ...CLUSTER_SCENARIOS];
  const unknown = names.filter((n) => !known.some((s) => s.name === n));
  if (unknown.length > 0) {
    throw new Error(
      `PYFLEET_E2E_ONLY names unknown scenarios: ${unknown.join(", ")}; ` +
        `known: ${known.map((s) => s.name).join(", ")}`,
    );
  }
  return all.filter((s) => names.includes(s.name));
}

async function main(): Promise<number> {
  const recorder = new Recorder();
  const processes = new Processes();
  processes.stopOnSignals();
  const work = mkdtempSync(path.join(tmpdir(), "pyfleet-e2e-"));
  processes.onCleanup("work folder", () => rmSync(work, { recursive: true, force: true }));
  const wanted = targets();
  const reports = path.join(ROOT, "reports", "e2e");
  let current = "start of the local engine";
  try {
    const setupStart = Date.now();
    const local = await startLocalEnv();
    processes.onCleanup("local engine", () => local.stop());
    recorder.figure("setup_seconds", Math.round((Date.now() - setupStart) / 1000));
    // The cluster's parts, and the language host a plain `pulumi up` needs, build while the
    // render pass runs: cold, that is half an hour of compiling, and the render pass mostly
    // waits on BuildKit and the registry. Warm, both return at once. Their progress lines go
    // to the harness's output as they come.
    const infra = path.join(ROOT, "infra");
    const clusterParts =
      wanted.includes("cluster") && clusterUnsupported() === undefined
        ? processes.run(
            "bash",
            ["-c", 'bash "$1/cluster/build.sh" && bash "$1/language-host.sh"', "prefetch", infra],
            { timeoutSeconds: 3600, echoStderr: true },
          )
        : undefined;
    if (wanted.includes("render")) {
      current = "setup of the project copy";
      const ctx = createContext(local, path.join(work, "render"), reports, processes, recorder);
      try {
        for (const scenario of selected(SCENARIOS)) {
          current = scenario.name;
          await scenario.run(ctx);
        }
      } catch (error) {
        recorder.check(scenarioCompleted, "render pass ran to the end", {
          scenario: current,
          error,
        });
      }
    }
    const clusterScenarios = selected(CLUSTER_SCENARIOS);
    if (wanted.includes("cluster") && clusterScenarios.length > 0) {
      current = "start of the local cluster";
      const why = clusterUnsupported();
      if (why !== undefined)
        throw new Error(`${why}; run with PYFLEET_E2E_TARGETS=render to leave it out`);
      if (clusterParts) {
        const built = await clusterParts;
        mkdirSync(reports, { recursive: true });
        writeFileSync(path.join(reports, "cluster-build.log"), built.stdout + built.stderr);
        // A failed build is built again, and its error reported, by the start below.
        process.stderr.write(
          `[harness] cluster parts ${built.status === 0 ? "ready" : "failed"} after ${built.seconds.toFixed(0)} s\n`,
        );
      }
      const clusterStart = Date.now();
      const cluster = startCluster(local.registry);
      processes.onCleanup("local cluster", () => cluster.stop());
      recorder.figure("cluster_start_seconds", Math.round((Date.now() - clusterStart) / 1000));
      current = "setup of the cluster project copy";
      const ctx = createContext(
        local,
        path.join(work, "cluster"),
        path.join(reports, "cluster"),
        processes,
        recorder,
        cluster,
      );
      for (const scenario of clusterScenarios) {
        current = scenario.name;
        await scenario.run(ctx);
      }
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

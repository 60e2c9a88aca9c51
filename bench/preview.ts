/**
 * A real `pulumi preview` of dev in render mode (the kubernetes provider renders, nothing is
 * built) at 3 and 30 apps, run as users run it: `cli/pulumi.ts` on ts-node, hosting the program
 * in-process, with the CLI and plugins of infra/pulumi-toolchain.sh. Prints each size's wall
 * time, then the cost per app (the slope between the two sizes) and the fixed cost, both with
 * the stack-trace mode users get and with TypeScript source maps kept (PYFLEET_SOURCE_MAPS=1,
 * what every run paid before), runs interleaved, the best of several kept.
 *   npm run bench:preview         PYFLEET_BENCH_RUNS=<n> (default 3) measured runs per figure
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { LOCAL_PASSPHRASE, writeOverlayConfig } from "../infra/localEnv";
import { SOURCE_MAPS_VARIABLE } from "../cli/stackTraces";
import { writeBenchCatalogue } from "./catalogue";

const ROOT = path.resolve(__dirname, "..");
const RUNS = Number(process.env["PYFLEET_BENCH_RUNS"] ?? "3");
const SIZES = [3, 30] as const;
const MODES = [
  { name: "as run", env: {} },
  { name: "source-mapped", env: { [SOURCE_MAPS_VARIABLE]: "1" } },
] as const;

function toolchainReady(): boolean {
  const check = spawnSync("bash", [path.join(ROOT, "infra", "pulumi-toolchain.sh"), "--check"], {
    stdio: "ignore",
  });
  return check.status === 0;
}

function main(): void {
  if (!toolchainReady()) {
    throw new Error("the Pulumi toolchain is not built: run infra/pulumi-toolchain.sh first");
  }
  const work = mkdtempSync(path.join(tmpdir(), "pyfleet-bench-preview-"));
  try {
    const env = {
      ...process.env,
      PULUMI_BACKEND_URL: `file://${work}/state`,
      PULUMI_CONFIG_PASSPHRASE: LOCAL_PASSPHRASE,
      // A quick start's local settings name the example apps, which a bench catalogue lacks.
      PYFLEET_LOCAL_SETTINGS: "none",
    };
    mkdirSync(path.join(work, "state"));
    const overlays = new Map<number, string>();
    for (const n of SIZES) {
      const overlay = path.join(work, `Pulumi.dev-${n}.yaml`);
      writeOverlayConfig("dev", overlay, {
        "pyfleet:catalogue": writeBenchCatalogue(ROOT, n),
        // Rendered manifests must stay in the repository (rendered/ is ignored by git).
        "pyfleet:renderDir": path.join(ROOT, "rendered", `bench-preview-${n}`),
      });
      overlays.set(n, overlay);
    }
    const preview = (n: number, extra: Record<string, string>): number => {
      const args = ["-r", "ts-node/register/transpile-only", path.join(ROOT, "cli", "pulumi.ts")];
      const started = performance.now();
      const r = spawnSync(
        process.execPath,
        [...args, "preview", "dev", "--config-file", overlays.get(n)!],
        { env: { ...env, ...extra }, cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 2 ** 20 },
      );
      const seconds = (performance.now() - started) / 1000;
      if (r.status !== 0) {
        throw new Error(`preview of ${n} apps failed:\n${(r.stderr || r.stdout).slice(-3000)}`);
      }
      return seconds;
    };
    // The first preview creates the stack and warms the plugins; it is not counted.
    preview(SIZES[0], {});
    const best = new Map<string, number>();
    for (let run = 0; run < RUNS; run++) {
      for (const n of SIZES) {
        for (const mode of MODES) {
          const key = `${mode.name}/${n}`;
          const s = preview(n, mode.env);
          if (!best.has(key) || s < best.get(key)!) best.set(key, s);
        }
      }
    }
    const [small, large] = SIZES;
    for (const mode of MODES) {
      const a = best.get(`${mode.name}/${small}`)!;
      const b = best.get(`${mode.name}/${large}`)!;
      const perApp = (b - a) / (large - small);
      const fixed = a - perApp * small;
      console.log(
        `pulumi preview, render mode, ${mode.name}: ${small} apps ${a.toFixed(2)} s, ` +
          `${large} apps ${b.toFixed(2)} s; ${(perApp * 1000).toFixed(0)} ms per app on top of ` +
          `${fixed.toFixed(2)} s fixed`,
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  main();
} catch (error: unknown) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}

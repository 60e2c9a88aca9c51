/**
 * The conda flavour for real: test/e2e/condaImage.ts builds the science image on the local
 * BuildKit against the local conda channel, runs it as the pod would, measures it against a
 * naive single-stage build, and installs it from a conda-lock.yml without a solve. Here it runs
 * on the harness's engine, its BuildKit cache kept (the other scenarios share it), without the
 * measurements (`npm run e2e:conda` makes those).
 */
import * as path from "node:path";
import { ROOT } from "../../../infra/localEnv";
import { condaImageWorks } from "../checks";
import type { Scenario } from "../lib/context";

/** The PASS lines of a complete run of test/e2e/condaImage.ts. */
const CONDA_CHECKS = 11;

export const condaFlavour: Scenario = {
  name: "conda flavour",
  async run(ctx) {
    const run = await ctx.processes.run(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", path.join(ROOT, "test", "e2e", "condaImage.ts")],
      { env: { ...ctx.env, PYFLEET_CONDA_E2E: "harness" }, timeoutSeconds: 1800 },
    );
    const figures = run.stdout.split("\n").filter((l) => l.startsWith("figures: "));
    figures.forEach((line, i) => ctx.recorder.figure(`conda_${i}`, line.slice(9)));
    ctx.recorder.check(
      condaImageWorks,
      "conda: the science image builds against the local channel, runs hardened, and installs from its lock",
      { run: { ...run, output: run.stdout + run.stderr }, minimum: CONDA_CHECKS },
    );
  },
};

/**
 * A code-only change to one app: only that app's image is planned to change, and its rebuild
 * reuses every dependency layer (only the code layer is new).
 */
import { appendFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { dependencyLayersReused, onlyImageChanges } from "../checks";
import type { Scenario } from "../lib/context";
import { planOf } from "../lib/pulumi";
import { imageLayers } from "../lib/registry";

const CHANGED = "vectors";
const UNCHANGED = "dashboard";

/** Changes the vectors app's code, previews, updates and compares layers. */
export const codeOnly: Scenario = {
  name: "code-only rebuild",
  async run(ctx) {
    const { pulumi, recorder, local } = ctx;
    appendFileSync(
      path.join(ctx.project, "apps", "vectors", "vectors", "main.py"),
      "\n# e2e: code-only change\n",
    );
    const diff = await pulumi.run("preview --diff", [
      "preview",
      "dev",
      "--diff",
      "--json",
      "--config-file",
      ctx.config.pip,
    ]);
    writeFileSync(path.join(ctx.reports, "preview-diff.json"), diff.stdout);
    recorder.check(
      onlyImageChanges,
      "preview --diff after a code-only change updates the vectors image only",
      {
        run: diff,
        steps: diff.status === 0 ? planOf(diff).steps : [],
        image: `${CHANGED}-image`,
      },
    );

    const run = await pulumi.up("up after code change", "dev", ctx.config.pip);
    recorder.figure("code_only_up_seconds", Number(run.seconds.toFixed(1)));
    const before = ctx.facts.devApps;
    const after = run.status === 0 ? await pulumi.apps("dev", ctx.config.pip) : {};
    const layersOf = async (out: (typeof before)[string] | undefined) =>
      out ? imageLayers(local.registry, out.repository, out.digest) : [];
    const layers = {
      before: await layersOf(before[CHANGED]),
      after: await layersOf(after[CHANGED]),
    };
    const reused = layers.after.filter((l, i) => layers.before[i] === l).length;
    recorder.figure("code_only_layers_reused", `${reused}/${layers.after.length}`);
    recorder.check(
      dependencyLayersReused,
      "the code-only rebuild reuses every dependency layer (only the code layer is new)",
      {
        run,
        coldSeconds: ctx.facts.coldUpSeconds,
        changed: { before: before[CHANGED]?.digest, after: after[CHANGED]?.digest },
        unchanged: { before: before[UNCHANGED]?.digest, after: after[UNCHANGED]?.digest },
        layers,
      },
    );
  },
};

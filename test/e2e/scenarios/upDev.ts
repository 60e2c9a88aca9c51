/**
 * A real `up` of dev's pip apps: built on BuildKit, pushed to the registry, manifests rendered
 * with the digest; the conda app stays out as configured.
 */
import { appLeftOut, commandSucceeds, manifestsPinDigest } from "../checks";
import { CONDA_APP, PIP_APPS, type Scenario } from "../lib/context";
import { manifestsUnder } from "../lib/project";

/** Updates dev and records its outputs for the scenarios after it. */
export const upDev: Scenario = {
  name: "up dev",
  async run(ctx) {
    const run = await ctx.pulumi.up("up", "dev", ctx.config.pip);
    ctx.recorder.figure("cold_up_seconds", Number(run.seconds.toFixed(1)));
    ctx.facts.coldUpSeconds = run.seconds;
    ctx.recorder.check(commandSucceeds, "pulumi up of dev builds and pushes the pip apps", {
      what: "up",
      run,
    });
    const apps = run.status === 0 ? await ctx.pulumi.apps("dev", ctx.config.pip) : {};
    ctx.facts.devApps = apps;
    const files = manifestsUnder(ctx.renderDir, ctx.work);
    for (const app of PIP_APPS) {
      ctx.recorder.check(manifestsPinDigest, `${app}: rendered manifests pin the digest`, {
        image: apps[app]?.image,
        files,
      });
    }
    ctx.recorder.check(appLeftOut, "the conda app was left out of the build, as configured", {
      deployed: Object.keys(apps),
      disabled: CONDA_APP,
    });
  },
};

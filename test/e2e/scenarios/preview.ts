/**
 * A preview of dev with every app, the conda one included: previews do not build, so the
 * conda app is planned although its channels cannot be reached here.
 */
import { previewPlansImages } from "../checks";
import { CONDA_APP, PIP_APPS, type Scenario } from "../lib/context";

/** Previews dev with all apps. */
export const preview: Scenario = {
  name: "preview",
  async run(ctx) {
    const run = await ctx.pulumi.run("preview", [
      "preview",
      "dev",
      "--config-file",
      ctx.config.all,
    ]);
    ctx.recorder.figure("preview_seconds", Number(run.seconds.toFixed(1)));
    ctx.recorder.check(
      previewPlansImages,
      "pulumi preview of dev succeeds and plans all three images",
      {
        run,
        apps: [...PIP_APPS, CONDA_APP],
      },
    );
  },
};

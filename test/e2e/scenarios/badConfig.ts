/** Bad settings fail the preview with the settings error, and the state does not change. */
import { badConfigRefused } from "../checks";
import type { Scenario } from "../lib/context";

/** Previews dev with `pyfleet:replicas: -1`. */
export const badConfig: Scenario = {
  name: "bad config",
  async run(ctx) {
    const stateBefore = await ctx.pulumi.exportState("dev");
    const run = await ctx.pulumi.run("bad config", [
      "preview",
      "dev",
      "--config-file",
      ctx.config.bad,
    ]);
    ctx.recorder.check(
      badConfigRefused,
      "a bad stack config fails the preview with the settings error and changes nothing",
      {
        run,
        error: "pyfleet:replicas: must be >= 0, got -1",
        stateBefore,
        stateAfter: await ctx.pulumi.exportState("dev"),
      },
    );
  },
};

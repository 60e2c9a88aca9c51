/** Destroy, promoted stacks first (they reference dev's outputs); dev's state ends empty. */
import { commandSucceeds, stateEmptied } from "../checks";
import type { Scenario } from "../lib/context";

/** Destroys prod, staging, then dev. */
export const destroy: Scenario = {
  name: "destroy",
  async run(ctx) {
    for (const stack of ["prod", "staging"] as const) {
      const run = await ctx.pulumi.run(`destroy ${stack}`, [
        "destroy",
        stack,
        "--yes",
        "--config-file",
        ctx.promoteConfig(stack),
      ]);
      ctx.recorder.check(commandSucceeds, `pulumi destroy ${stack}`, {
        what: `destroy ${stack}`,
        run,
      });
    }
    const run = await ctx.pulumi.run("destroy", [
      "destroy",
      "dev",
      "--yes",
      "--config-file",
      ctx.config.pip,
    ]);
    ctx.recorder.check(stateEmptied, "pulumi destroy removes everything", {
      run,
      state: await ctx.pulumi.exportState("dev"),
    });
  },
};

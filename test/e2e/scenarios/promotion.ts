/**
 * Promotion: staging and prod never build; they deploy dev's digests and point their
 * environment and version tags at them. prod refuses a digest staging does not run.
 */
import * as path from "node:path";
import { promotedDigest, promotesWithoutBuild, promotionGuarded } from "../checks";
import { PIP_APPS, type Scenario } from "../lib/context";
import { manifestsUnder } from "../lib/project";
import { planOf } from "../lib/pulumi";
import { tagDigest } from "../lib/registry";

/** Promotes dev to staging, staging to prod, then tries a stray prod pin. */
export const promotion: Scenario = {
  name: "promotion",
  async run(ctx) {
    const { pulumi, recorder, local } = ctx;
    const source = ctx.facts.devApps;
    for (const stack of ["staging", "prod"] as const) {
      const config = ctx.promoteConfig(stack);
      const plan = await pulumi.run(`preview ${stack}`, [
        "preview",
        stack,
        "--json",
        "--config-file",
        config,
      ]);
      const promote = await pulumi.up(`up ${stack}`, stack, config);
      const promoted = promote.status === 0 ? await pulumi.apps(stack, config) : {};
      recorder.check(
        promotesWithoutBuild,
        `${stack}: plans no image build and promotes without rebuilding`,
        {
          plan,
          steps: plan.status === 0 ? planOf(plan).steps : [],
          promote,
        },
      );
      const files = manifestsUnder(path.join(ctx.project, "rendered", stack), ctx.work);
      for (const app of PIP_APPS) {
        const from = source[app];
        recorder.check(
          promotedDigest,
          `${stack}: ${app} runs dev's digest, and :${stack} and :<version> resolve to it`,
          {
            stack,
            source: from,
            out: promoted[app],
            environmentDigest: from
              ? await tagDigest(local.registry, from.repository, stack)
              : undefined,
            versionDigest:
              from?.version !== undefined
                ? await tagDigest(local.registry, from.repository, from.version)
                : undefined,
            files,
          },
        );
      }
    }
    const stray = `${local.registryName}/pyfleet/vectors@sha256:${"0".repeat(64)}`;
    const config = ctx.promoteConfig("prod", { "pyfleet:images": { pins: { vectors: stray } } });
    const run = await pulumi.run("prod guard", ["preview", "prod", "--config-file", config]);
    recorder.check(promotionGuarded, "prod refuses a digest staging does not run", {
      run,
      stagingDigest: source["vectors"]?.digest,
    });
  },
};

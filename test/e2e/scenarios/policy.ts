/**
 * Policy as code on real previews: the pack passes pyfleet's own dev stack, and a loosened
 * override the settings allow (a public host without TLS) fails where the pack is mandatory.
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { writeOverlayConfig } from "../../../infra/localEnv";
import { policyPasses, policyViolated } from "../checks";
import { CONDA_APP, type Scenario } from "../lib/context";

const PUBLIC_HOST = "vectors.example.com";

/** Previews dev with the pack, advisory then mandatory on a loosened stack. */
export const policy: Scenario = {
  name: "policy",
  async run(ctx) {
    const pack = path.join(ctx.project, "policy");
    const advisory = await ctx.pulumi.run("policy dev", [
      "preview",
      "dev",
      "--config-file",
      ctx.config.pip,
      "--policy-pack",
      pack,
      "--policy-pack-config",
      path.join(pack, "config", "dev.json"),
    ]);
    ctx.recorder.check(policyPasses, "the policy pack passes pyfleet's dev stack", {
      run: advisory,
    });

    const mandatory = path.join(ctx.work, "config", "policy-mandatory.json");
    writeFileSync(
      mandatory,
      JSON.stringify({
        all: "mandatory",
        "workload-replicas": { environment: "dev" },
        "workload-replicas-autoscaled": { environment: "dev" },
      }),
    );
    const loose = path.join(ctx.work, "config", "loose.yaml");
    writeOverlayConfig(
      "dev",
      loose,
      {
        ...ctx.overrides,
        "pyfleet:apps": {
          [CONDA_APP]: { enabled: false },
          vectors: { ingress: { host: PUBLIC_HOST } },
        },
      },
      ctx.project,
    );
    const violated = await ctx.pulumi.run("policy mandatory", [
      "preview",
      "dev",
      "--config-file",
      loose,
      "--policy-pack",
      pack,
      "--policy-pack-config",
      mandatory,
    ]);
    ctx.recorder.check(
      policyViolated,
      "a loosened override fails the preview on a mandatory policy",
      {
        run: violated,
        host: PUBLIC_HOST,
      },
    );
  },
};

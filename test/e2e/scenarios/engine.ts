/** The local engine answers: dockerd, the registry, BuildKit and the Pulumi toolchain. */
import * as path from "node:path";
import { ROOT } from "../../../infra/localEnv";
import { engineIsUp } from "../checks";
import type { Scenario } from "../lib/context";
import { registryStatus } from "../lib/registry";

/** Checks what `startLocalEnv` started before anything runs on it. */
export const engine: Scenario = {
  name: "engine",
  async run(ctx) {
    const { processes, local, env } = ctx;
    const infra = await processes.run(
      "bash",
      [path.join(ROOT, "infra", "local-infra.sh"), "status"],
      {
        env,
        timeoutSeconds: 120,
      },
    );
    const version = await processes.run(
      path.join(env["PYFLEET_PULUMI_BIN"] ?? "", "pulumi"),
      ["version"],
      {
        env,
        timeoutSeconds: 60,
      },
    );
    ctx.recorder.check(engineIsUp, "local engine, registry, BuildKit and toolchain are up", {
      seconds: Number(ctx.recorder.figures["setup_seconds"] ?? 0),
      infraStatus: { status: infra.status, text: `${infra.stdout}${infra.stderr}` },
      registryStatus: await registryStatus(local.registry),
      pulumiVersion: { status: version.status, text: version.stdout || version.stderr },
    });
  },
};

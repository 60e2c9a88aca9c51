/**
 * The main job on the embedded default: `pulumi up` of dev with images built on the local
 * BuildKit and pushed to the local registry, manifests rendered to rendered/dev.
 * Uses the Docker engine, registry and BuildKit of infra/local-infra.sh (started when none
 * runs; left running for the next run, `bash infra/local-infra.sh stop` stops them).
 * Conda apps need a reachable conda channel: set PYFLEET_BUILD_CONDA=1 where there is one.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { ROOT, localOverrides, startLocalEnv, writeOverlayConfig } from "../infra/localEnv";

async function main(): Promise<number> {
  const local = await startLocalEnv();
  try {
    const overlay = path.join(ROOT, ".pulumi-state", "local", "Pulumi.dev.yaml");
    const overrides = localOverrides(local, "rendered/dev");
    if (process.env["PYFLEET_BUILD_CONDA"] !== "1") {
      const catalogue = parseYaml(
        execFileSync("cat", [path.join(ROOT, "apps", "catalogue.yaml")], { encoding: "utf8" }),
      ) as { apps: Record<string, { flavour: string }> };
      const conda = Object.entries(catalogue.apps).filter(([, a]) => a.flavour === "conda");
      if (conda.length > 0) {
        process.stderr.write(
          `[quickstart] leaving out conda apps (${conda.map(([n]) => n).join(", ")}): no conda ` +
            "channel is configured here; set PYFLEET_BUILD_CONDA=1 where one is reachable\n",
        );
        overrides["pyfleet:apps"] = Object.fromEntries(conda.map(([n]) => [n, { enabled: false }]));
      }
    }
    writeOverlayConfig("dev", overlay, overrides);
    const runner = ["-r", "ts-node/register/transpile-only", path.join(ROOT, "cli", "pulumi.ts")];
    const env = { ...process.env, ...local.env };
    execFileSync(process.execPath, [...runner, "up", "dev", "--yes", "--config-file", overlay], {
      stdio: "inherit",
      env,
      cwd: ROOT,
    });
    const outputs = JSON.parse(
      execFileSync(process.execPath, [...runner, "outputs", "dev", "--config-file", overlay], {
        encoding: "utf8",
        env,
        cwd: ROOT,
      }),
    ) as { apps?: Record<string, { image: string; tags: string[] }>; manifests?: string };
    process.stdout.write("\nImages (deployed by digest):\n");
    for (const [name, app] of Object.entries(outputs.apps ?? {})) {
      process.stdout.write(`  ${name}: ${app.image}\n    tags: ${app.tags.join(", ")}\n`);
    }
    process.stdout.write(
      `Manifests: ${path.join(ROOT, outputs.manifests ?? "rendered/dev")}\n` +
        `State: ${path.join(ROOT, ".pulumi-state")} (passphrase pyfleet-local-only)\n`,
    );
    return 0;
  } finally {
    // The engine, registry and BuildKit stay up for the next run and for pulling the images.
    local.stop({ keepInfra: true });
    process.stderr.write(
      "[quickstart] stop the local engine with: bash infra/local-infra.sh stop\n",
    );
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);

/**
 * The main job on the embedded default: `pulumi up` of dev with images built on the local
 * BuildKit and pushed to the local registry, manifests rendered to rendered/dev.
 * Uses the Docker engine, registry and BuildKit of infra/local-infra.sh (started when none
 * runs; left running for the next run, `bash infra/local-infra.sh stop` stops them).
 * The local engine's settings go to the gitignored `Pulumi.<stack>.local.yaml` files, which
 * every command reads, so `npm run preview -- dev` right after this plans no change.
 * Conda apps need a reachable conda channel: set PYFLEET_BUILD_CONDA=1 where there is one.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { ROOT, localOverrides, startLocalEnv, writeLocalSettings } from "../infra/localEnv";

async function main(): Promise<number> {
  const local = await startLocalEnv();
  try {
    const overrides = localOverrides(local, "rendered/dev");
    // The default render folder is already rendered/dev; the file holds only what differs.
    delete overrides["pyfleet:renderDir"];
    // The local registry answers on loopback under both names (BuildKit trusts both); the
    // committed stacks and the policy pack's allowedRegistries name it localhost:<port>.
    const registry = `${local.registryName}/pyfleet`;
    overrides["pyfleet:registry"] = registry;
    const shared: Record<string, unknown> = { "pyfleet:registry": registry };
    if (process.env["PYFLEET_BUILD_CONDA"] !== "1") {
      const catalogue = parseYaml(
        readFileSync(path.join(ROOT, "apps", "catalogue.yaml"), "utf8"),
      ) as {
        apps: Record<string, { flavour: string }>;
      };
      const conda = Object.entries(catalogue.apps).filter(([, a]) => a.flavour === "conda");
      if (conda.length > 0) {
        process.stderr.write(
          `[quickstart] leaving out conda apps (${conda.map(([n]) => n).join(", ")}): no conda ` +
            "channel is configured here; set PYFLEET_BUILD_CONDA=1 where one is reachable\n",
        );
        shared["pyfleet:apps"] = Object.fromEntries(conda.map(([n]) => [n, { enabled: false }]));
      }
    }
    // Staging and prod build nothing: they share only the registry and the app set.
    for (const stack of ["staging", "prod"]) writeLocalSettings(stack, shared);
    const file = writeLocalSettings("dev", { ...overrides, ...shared });
    process.stderr.write(`[quickstart] local engine settings: ${path.relative(ROOT, file)}\n`);

    const runner = ["-r", "ts-node/register/transpile-only", path.join(ROOT, "cli", "pulumi.ts")];
    const env = { ...process.env, ...local.env };
    execFileSync(process.execPath, [...runner, "up", "dev", "--yes"], {
      stdio: "inherit",
      env,
      cwd: ROOT,
    });
    const out = execFileSync(process.execPath, [...runner, "outputs", "dev"], {
      encoding: "utf8",
      env,
      cwd: ROOT,
    });
    const outputs = JSON.parse(out.slice(out.indexOf("{"), out.lastIndexOf("}") + 1)) as {
      apps?: Record<string, { image: string; tags: string[] }>;
      manifests?: string;
    };
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

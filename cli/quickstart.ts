/**
 * The main job on the embedded default: `pulumi up` of dev with images built on the local
 * BuildKit and pushed to the local registry, deployed to the local k3s-shaped cluster
 * (infra/cluster.sh) where this machine can run it, else rendered to rendered/dev.
 *
 *   bash scripts/quickstart.sh            deploy to the local cluster (render where it cannot run)
 *   bash scripts/quickstart.sh --render   render the manifests to rendered/dev instead
 *
 * Uses the Docker engine, registry and BuildKit of infra/local-infra.sh and the cluster of
 * infra/cluster.sh (started when not running; left running for the next run and for the
 * apps: `bash infra/cluster.sh stop` and `bash infra/local-infra.sh stop` stop them).
 * The local settings go to the gitignored `Pulumi.<stack>.local.yaml` files, which every
 * command reads, so `npm run preview -- dev` right after this plans no change.
 * Conda apps build against the local conda channel (infra/conda-channel, built once into its
 * cache); PYFLEET_BUILD_CONDA=0 leaves them out.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import {
  LOCAL_CLUSTER_APP_RESOURCES,
  clusterUnsupported,
  startCluster,
  type LocalCluster,
} from "../infra/cluster";
import { ROOT, localOverrides, startLocalEnv, writeLocalSettings } from "../infra/localEnv";
import { offlineSettings } from "../stacks/offline";

function usage(): number {
  process.stderr.write("usage: bash scripts/quickstart.sh [--render]\n");
  return 2;
}

/** Status of GET `url` sent with `host` as Host header (0 when nothing answered). */
function statusOf(url: string, host: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { headers: { host }, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(0));
  });
}

/** Prints each app's URL on 127.0.0.1 through Traefik; false when one does not answer 200. */
async function printUrls(cluster: LocalCluster, apps: Record<string, { url?: string }>) {
  const settings = offlineSettings("dev", ROOT);
  let allOk = true;
  process.stdout.write("\nApps, through Traefik on 127.0.0.1 (send the Host header shown):\n");
  for (const [name, app] of Object.entries(apps)) {
    if (app.url === undefined) continue;
    const host = new URL(app.url).host;
    const health = settings.apps.find((a) => a.name === name)?.health.readinessPath ?? "/";
    const url = `${cluster.ingress}${health}`;
    const status = await statusOf(url, host);
    allOk &&= status === 200;
    process.stdout.write(
      `  ${name}: curl -H 'Host: ${host}' ${url}   -> ${status === 0 ? "no answer" : status}\n`,
    );
  }
  return allOk;
}

/** Each catalogue app's flavour, by name. */
function catalogueFlavours(): Record<string, string> {
  const catalogue = parseYaml(readFileSync(path.join(ROOT, "apps", "catalogue.yaml"), "utf8")) as {
    apps: Record<string, { flavour: string }>;
  };
  return Object.fromEntries(Object.entries(catalogue.apps).map(([n, a]) => [n, a.flavour]));
}

async function main(argv: string[]): Promise<number> {
  if (argv.some((a) => a !== "--render")) return usage();
  const unsupported = clusterUnsupported();
  const render = argv.includes("--render") || unsupported !== undefined;
  if (!argv.includes("--render") && unsupported !== undefined) {
    process.stderr.write(`[quickstart] rendering manifests instead of deploying: ${unsupported}\n`);
  }
  const local = await startLocalEnv();
  try {
    const cluster = render ? undefined : startCluster(local.registry);
    const overrides = localOverrides(local, "rendered/dev");
    // The default render folder is already rendered/dev; the file holds only what differs.
    delete overrides["pyfleet:renderDir"];
    // The local registry answers on loopback under both names (BuildKit trusts both); the
    // committed stacks and the policy pack's allowedRegistries name it localhost:<port>.
    // Every later `npm run preview|up` of dev talks to this engine and builder, whatever the
    // shell holds: a different DOCKER_HOST would replace the build provider, and every image.
    overrides["pyfleet:build"] = {
      ...(overrides["pyfleet:build"] as Record<string, unknown>),
      dockerHost: local.env["DOCKER_HOST"],
      dockerConfig: local.env["DOCKER_CONFIG"],
    };
    const registry = `${local.registryName}/pyfleet`;
    overrides["pyfleet:registry"] = registry;
    const shared: Record<string, unknown> = { "pyfleet:registry": registry };
    if (local.condaChannelUrl === undefined) {
      const conda = Object.entries(catalogueFlavours()).filter(([, f]) => f === "conda");
      if (conda.length > 0) {
        process.stderr.write(
          `[quickstart] leaving out conda apps (${conda.map(([n]) => n).join(", ")}), as ` +
            "PYFLEET_BUILD_CONDA=0 asks\n",
        );
        shared["pyfleet:apps"] = Object.fromEntries(conda.map(([n]) => [n, { enabled: false }]));
      }
    }
    if (cluster) {
      // Every stack deploys to the local cluster; requests small enough for one node to hold
      // dev, staging and prod at once.
      shared["pyfleet:kubeconfigPath"] = cluster.kubeconfig;
      shared["pyfleet:kubeContext"] = cluster.context;
      // Staging verifies each rollout through Traefik, which listens here on the host.
      shared["pyfleet:verification"] = { via: cluster.ingress };
      const apps = (shared["pyfleet:apps"] ?? {}) as Record<string, Record<string, unknown>>;
      // Every catalogue app: a local settings file left by an earlier run may disable some.
      for (const name of Object.keys(catalogueFlavours())) {
        apps[name] = { ...(apps[name] ?? {}), resources: LOCAL_CLUSTER_APP_RESOURCES };
      }
      shared["pyfleet:apps"] = apps;
    }
    // Staging and prod build nothing: they share only the registry, the cluster and the apps.
    for (const stack of ["staging", "prod"]) writeLocalSettings(stack, shared);
    const file = writeLocalSettings("dev", { ...overrides, ...shared });
    process.stderr.write(`[quickstart] local engine settings: ${path.relative(ROOT, file)}\n`);

    const runner = ["-r", "ts-node/register/transpile-only", path.join(ROOT, "cli", "pulumi.ts")];
    const env = { ...process.env, ...local.env };
    // --refresh: the local cluster keeps no data across `infra/cluster.sh stop`, so a second
    // quick start first drops from the state what the cluster no longer holds, then recreates it.
    execFileSync(process.execPath, [...runner, "up", "dev", "--yes", "--refresh"], {
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
      apps?: Record<string, { image: string; tags: string[]; url?: string }>;
      manifests?: string;
    };
    process.stdout.write("\nImages (deployed by digest):\n");
    for (const [name, app] of Object.entries(outputs.apps ?? {})) {
      process.stdout.write(`  ${name}: ${app.image}\n    tags: ${app.tags.join(", ")}\n`);
    }
    const answering = cluster ? await printUrls(cluster, outputs.apps ?? {}) : true;
    process.stdout.write(
      (cluster
        ? `Cluster: KUBECONFIG=${cluster.kubeconfig} (kubectl: ${cluster.kubectl})\n`
        : `Manifests: ${path.join(ROOT, outputs.manifests ?? "rendered/dev")}\n`) +
        `State: ${path.join(ROOT, ".pulumi-state")} (passphrase pyfleet-local-only)\n`,
    );
    if (!answering) {
      process.stderr.write("[quickstart] an app does not answer 200 through Traefik (above)\n");
      return 1;
    }
    return 0;
  } finally {
    // The engine, registry, BuildKit and cluster stay up for the next run and for the apps.
    local.stop({ keepInfra: true });
    process.stderr.write(
      "[quickstart] stop the local engine with: bash infra/local-infra.sh stop" +
        (render ? "\n" : "; the cluster with: bash infra/cluster.sh stop\n"),
    );
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);

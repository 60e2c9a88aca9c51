/**
 * Build and engine benchmarks on the local BuildKit and registry, from one run:
 *   - real `pulumi preview` wall time of dev;
 *   - cold build time of a pip example against a code-only rebuild (the ratio);
 *   - each pip example's image size against a naive single-stage Dockerfile (the ratio);
 *   - the conda example (test/e2e/condaImage.ts on its own: cold and code-only builds, size
 *     against a naive single-stage conda image, what each cleaning step saves), and the
 *     conda/pip ratio against the seeds' figures (pip 1.2 GB, conda 1.8 GB).
 * Sizes are the compressed layer bytes the registry stores, and unpacked as `docker images`
 * shows them (the unit of the seeds' figures).   npm run bench:build
 */
import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { renderDockerfile } from "../model/dockerfile";
import { imagePlan } from "../model/imagePlan";
import { offlineSettings } from "../stacks/offline";
import {
  imageBytes,
  LOCAL_PASSPHRASE,
  localOverrides,
  ROOT,
  startLocalEnv,
  unpackedBytes,
  writeOverlayConfig,
} from "../infra/localEnv";

/** The seeds' figures (unpacked): pip 1.2 GB, conda 1.8 GB. */
const SEEDS = { pip: 1.2e9, conda: 1.8e9 };

function seconds(fn: () => void): number {
  const started = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function main(): Promise<void> {
  const local = await startLocalEnv();
  const work = mkdtempSync(path.join(tmpdir(), "pyfleet-bench-"));
  const buildctl = process.env["PYFLEET_BUILDCTL"] ?? "buildctl";
  const infra = execFileSync("bash", [path.join(ROOT, "infra", "local-infra.sh"), "env"], {
    encoding: "utf8",
  });
  const host = /PYFLEET_BUILDKIT_HOST=(\S+)/.exec(infra)?.[1]?.replace(/^['"]|['"]$/g, "") ?? "";
  const ctl = /PYFLEET_BUILDCTL=(\S+)/.exec(infra)?.[1]?.replace(/^['"]|['"]$/g, "") ?? buildctl;
  const lines: string[] = [];
  const pipUnpacked: number[] = [];
  try {
    // 1. Real preview of dev (images are not built in previews).
    const overlay = path.join(work, "Pulumi.dev.yaml");
    writeOverlayConfig("dev", overlay, localOverrides(local, path.join(ROOT, "rendered", "bench")));
    const env = {
      ...process.env,
      ...local.env,
      PULUMI_BACKEND_URL: `file://${work}/state`,
      PULUMI_CONFIG_PASSPHRASE: LOCAL_PASSPHRASE,
    };
    mkdirSync(path.join(work, "state"));
    const runner = ["-r", "ts-node/register/transpile-only", path.join(ROOT, "cli", "pulumi.ts")];
    // The first preview creates the stack and warms the plugins; the second is measured.
    spawnSync(process.execPath, [...runner, "preview", "dev", "--config-file", overlay], {
      env,
      cwd: ROOT,
    });
    const preview = seconds(() => {
      const r = spawnSync(
        process.execPath,
        [...runner, "preview", "dev", "--config-file", overlay],
        { env, cwd: ROOT },
      );
      if (r.status !== 0) throw new Error(`preview failed: ${String(r.stderr)}`);
    });
    lines.push(`pulumi preview (dev, 3 apps, real engine): ${preview.toFixed(1)} s`);

    // 2 and 3. Builds with buildctl on the same BuildKit the program uses.
    const settings = offlineSettings("dev");
    const build = (context: string, dockerfileDir: string, ref: string) => {
      const args = [
        "--addr",
        host,
        "build",
        "--frontend",
        "dockerfile.v0",
        "--local",
        `context=${context}`,
        "--local",
        `dockerfile=${dockerfileDir}`,
        "--opt",
        "target=production",
        "--opt",
        "force-network-mode=host",
        "--allow",
        "network.host",
        "--opt",
        `build-arg:PIP_FIND_LINKS=${local.wheelhouseUrl}`,
        "--opt",
        "build-arg:PIP_NO_INDEX=1",
        "--output",
        `type=image,name=${ref},push=true,registry.insecure=true`,
      ];
      const r = spawnSync(ctl, args, { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`build of ${ref} failed:\n${r.stderr.slice(-2000)}`);
    };
    for (const app of settings.apps.filter((a) => a.flavour === "pip")) {
      const context = path.join(work, app.name);
      cpSync(path.join(ROOT, app.path), context, { recursive: true });
      const plan = imagePlan({
        app,
        environment: "dev",
        registry: settings.registry,
        build: settings.build,
        tags: { allowDirty: true, requireVersion: false },
      });
      const spec = {
        ...plan.dockerfile,
        baseImages: { ...plan.dockerfile.baseImages, python: local.basePython },
        builderPackages: [],
      };
      const generated = path.join(work, `${app.name}-generated`);
      mkdirSync(generated);
      writeFileSync(path.join(generated, "Dockerfile"), renderDockerfile(spec));
      const naive = path.join(work, `${app.name}-naive`);
      mkdirSync(naive);
      writeFileSync(
        path.join(naive, "Dockerfile"),
        [
          `FROM ${local.basePython} AS production`,
          "ARG PIP_FIND_LINKS",
          "ARG PIP_NO_INDEX",
          "WORKDIR /app",
          "COPY . .",
          "RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install -r requirements.txt",
          "ENV PATH=/opt/venv/bin:$PATH",
          "",
        ].join("\n"),
      );
      const repo = `${local.registry}/bench/${app.name}`;
      execFileSync(ctl, ["--addr", host, "prune", "--all"], { stdio: "ignore" });
      const cold = seconds(() => build(context, generated, `${repo}:cold`));
      appendFileSync(
        path.join(context, app.kind === "streamlit" ? "app.py" : "vectors/main.py"),
        "\n# bench: code-only change\n",
      );
      const rebuild = seconds(() => build(context, generated, `${repo}:rebuild`));
      build(context, naive, `${repo}:naive`);
      const size = await imageBytes(local.registry, `bench/${app.name}`, "cold");
      const naiveSize = await imageBytes(local.registry, `bench/${app.name}`, "naive");
      const unpacked = unpackedBytes(local.docker, local.env, `${repo}:cold`);
      pipUnpacked.push(unpacked);
      const naiveUnpacked = unpackedBytes(local.docker, local.env, `${repo}:naive`);
      lines.push(
        `${app.name}: cold build ${cold.toFixed(1)} s, code-only rebuild ${rebuild.toFixed(1)} s, ratio ${(cold / rebuild).toFixed(1)}x`,
        `${app.name}: image ${(size / 2 ** 20).toFixed(1)} MiB vs naive single-stage ${(naiveSize / 2 ** 20).toFixed(1)} MiB, ratio ${(size / naiveSize).toFixed(2)}`,
        `${app.name}: unpacked ${(unpacked / 2 ** 20).toFixed(1)} MiB vs naive single-stage ${(naiveUnpacked / 2 ** 20).toFixed(1)} MiB, ratio ${(unpacked / naiveUnpacked).toFixed(2)}`,
      );
    }

    // 4. The conda example, built, run and measured by its own end-to-end script.
    const conda = spawnSync(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", path.join(ROOT, "test/e2e/condaImage.ts")],
      // On its own (not the harness's mode), so that it measures from an empty build cache.
      { cwd: ROOT, encoding: "utf8", env: { ...process.env, PYFLEET_CONDA_E2E: undefined } },
    );
    if (conda.status !== 0) {
      throw new Error(`the conda build failed:\n${(conda.stdout + conda.stderr).slice(-3000)}`);
    }
    const figures = conda.stdout.split("\n").filter((l) => l.startsWith("figures: "));
    lines.push(...figures.map((l) => `science (conda): ${l.slice("figures: ".length)}`));
    const condaUnpacked = /unpacked image ([\d.]+) MiB/.exec(conda.stdout)?.[1];
    if (condaUnpacked === undefined || pipUnpacked.length === 0) {
      throw new Error("the conda script printed no unpacked size");
    }
    const condaBytes = Number(condaUnpacked) * 2 ** 20;
    const pipBytes = Math.max(...pipUnpacked);
    lines.push(
      `conda/pip unpacked: ${(condaBytes / pipBytes).toFixed(2)} here (science ${(condaBytes / 1e9).toFixed(2)} GB, largest pip ${(pipBytes / 1e9).toFixed(2)} GB) vs ${(SEEDS.conda / SEEDS.pip).toFixed(2)} in the seeds (${SEEDS.conda / 1e9} GB, ${SEEDS.pip / 1e9} GB)`,
    );
  } finally {
    local.stop();
    rmSync(work, { recursive: true, force: true });
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});

/**
 * The conda flavour for real: builds the science app's image on the local BuildKit with the
 * rattler installer against the local conda channel, runs it as the pod would (read-only root,
 * numeric uid, no capabilities, /tmp the only writable place) and checks that /health and the
 * numba-compiled /mandelbrot answer and that numba's cache lands under /tmp. Then the lock
 * path: a conda-lock.yml generated against the same channel is installed without a solve.
 *
 *   npm run e2e:conda      (after infra/local-infra.sh start; the channel is built if needed)
 *
 * Environment: PYFLEET_INFRA_DIR (see infra/local-infra.sh), PYFLEET_CONDA_E2E=harness (the
 * end-to-end harness: keep the BuildKit cache the other scenarios share, and leave the size
 * and rebuild measurements to this script's own runs), PYFLEET_CONDA_CHANNEL_PORT
 * (default 8470), PYFLEET_CONDA_WHEELHOUSE_PORT (default 8471), PYFLEET_CONDA_APP_PORT
 * (default 8472): all on 127.0.0.1.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { CONDA_CONTEXT, renderDockerfile, type DockerfileSpec } from "../../model/dockerfile";
import { imagePlan } from "../../model/imagePlan";
import { imageBytes, ROOT, unpackedBytes } from "../../infra/localEnv";
import { offlineSettings } from "../../stacks/offline";

const APP = "science";
const UID = 10001;

function log(message: string): void {
  process.stderr.write(`[e2e:conda] ${message}\n`);
}

const results: string[] = [];
function check(label: string, ok: boolean, detail = ""): void {
  results.push(`${ok ? "PASS" : "FAIL"} ${label}${detail ? `: ${detail}` : ""}`);
  log(`${ok ? "PASS" : "FAIL"} ${label}${detail ? `: ${detail}` : ""}`);
}

/**
 * What a build log says of the conda steps, for a check that failed on it: the installer's
 * and system-libs.sh's own lines, or, when there are none, how many steps were cached and
 * the log's last lines.
 */
function installerLines(log: string): string {
  const lines = log.split("\n");
  const own = lines.filter((l) => /\[rattler-install\]|system-libs:/.test(l));
  if (own.length > 0) return own.slice(-6).join(" | ");
  const cached = lines.filter((l) => /\bCACHED\b/.test(l)).length;
  return `no installer line in ${lines.length} log lines (${cached} steps CACHED); last: ${lines.slice(-4).join(" | ")}`;
}

function exports(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const m of text.matchAll(/^export ([A-Z_][A-Z0-9_]*)=(.*)$/gm)) {
    vars[m[1]!] = m[2]!.replace(/^['"]|['"]$/g, "");
  }
  return vars;
}

async function waitFor(url: string, seconds: number): Promise<Response> {
  const deadline = Date.now() + seconds * 1000;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return response;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} did not answer within ${seconds} s (${String(last)})`);
}

function seconds(fn: () => void): number {
  const started = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Requirements of the builder's pip: the rattler installer's and the env's pip: section. */
function builderRequirements(): string[] {
  const installer = readFileSync(path.join(ROOT, "images/conda/rattler-requirements.txt"), "utf8")
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter((l) => l !== "");
  const env = parseYaml(readFileSync(path.join(ROOT, "apps", APP, "environment.yml"), "utf8")) as {
    dependencies: (string | { pip: string[] })[];
  };
  const pip = env.dependencies.flatMap((d) => (typeof d === "string" ? [] : d.pip));
  return [...installer, ...pip];
}

async function main(): Promise<void> {
  const harness = process.env["PYFLEET_CONDA_E2E"] === "harness";
  const infra = exports(
    execFileSync("bash", [path.join(ROOT, "infra/local-infra.sh"), "env"], { encoding: "utf8" }),
  );
  const registry = infra["PYFLEET_REGISTRY"]!;
  const buildctl = infra["PYFLEET_BUILDCTL"]!;
  const buildkit = infra["PYFLEET_BUILDKIT_HOST"]!;
  const docker = infra["PYFLEET_DOCKER"] ?? "/usr/bin/docker";
  const dockerEnv = { ...process.env, DOCKER_HOST: infra["DOCKER_HOST"]! };
  const channelPort = process.env["PYFLEET_CONDA_CHANNEL_PORT"] ?? "8470";
  const wheelPort = process.env["PYFLEET_CONDA_WHEELHOUSE_PORT"] ?? "8471";
  const appPort = process.env["PYFLEET_CONDA_APP_PORT"] ?? "8472";

  const work = mkdtempSync(path.join(tmpdir(), "pyfleet-conda-e2e-"));
  const servers: ChildProcess[] = [];
  const containers: string[] = [];
  try {
    // 1. The channel (built once into its cache), and a wheelhouse for the builder's pip.
    const channelStarted = Date.now();
    const channel = execFileSync(
      "bash",
      [path.join(ROOT, "infra/conda-channel/serve.sh"), "start", "--port", channelPort],
      { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
    )
      .trim()
      .split("\n")
      .pop()!;
    log(`channel ${channel} (ready after ${((Date.now() - channelStarted) / 1000).toFixed(0)} s)`);
    const wheels = path.join(work, "wheels");
    execFileSync(
      "python3",
      ["-m", "pip", "download", "--quiet", "--only-binary=:all:", "--dest", wheels].concat(
        builderRequirements(),
      ),
      { stdio: "inherit" },
    );
    const wheelhouse = spawn(
      "python3",
      ["-m", "http.server", "--bind", "127.0.0.1", "--directory", wheels, wheelPort],
      { stdio: "ignore" },
    );
    servers.push(wheelhouse);
    const wheelhouseUrl = `http://127.0.0.1:${wheelPort}/`;
    await waitFor(wheelhouseUrl, 20);

    // 2. The Dockerfile the program would render, with the local base images and installer:
    // from the committed settings (a quick start's local file may leave the app out).
    process.env["PYFLEET_LOCAL_SETTINGS"] = "none";
    const settings = offlineSettings("dev");
    const app = settings.apps.find((a) => a.name === APP)!;
    const plan = imagePlan({
      app: { ...app, build: { ...app.build, condaInstaller: "rattler" } },
      environment: "dev",
      registry: settings.registry,
      build: { ...settings.build, condaChannel: channel },
      tags: { allowDirty: true, requireVersion: false },
    });
    const spec = (lock: boolean): DockerfileSpec => ({
      ...plan.dockerfile,
      condaLock: lock,
      baseImages: {
        ...plan.dockerfile.baseImages,
        python: infra["PYFLEET_BASE_PYTHON"]!,
        condaRuntime: infra["PYFLEET_BASE_DEBIAN"]!,
      },
    });
    const buildArgs = {
      ...plan.buildArgs,
      PIP_FIND_LINKS: wheelhouseUrl,
      PIP_NO_INDEX: "1",
    };
    const build = (context: string, dockerfile: string, ref: string): string => {
      const dir = path.join(work, `df-${ref.replace(/\W+/g, "-")}`);
      mkdirSync(dir);
      writeFileSync(path.join(dir, "Dockerfile"), dockerfile);
      const args = ["--addr", buildkit, "build", "--frontend", "dockerfile.v0"];
      args.push("--local", `context=${context}`, "--local", `dockerfile=${dir}`);
      for (const [name, folder] of Object.entries(plan.namedContexts)) {
        args.push("--local", `${name}=${path.join(ROOT, folder)}`);
        args.push("--opt", `context:${name}=local:${name}`);
      }
      args.push("--opt", "target=production", "--opt", "force-network-mode=host");
      // The checks below read the builder's own lines from the log: a step the shared cache
      // answers prints none, so no step may come from it (the other scenarios keep theirs).
      args.push("--no-cache");
      args.push("--allow", "network.host", "--progress", "plain");
      for (const [k, v] of Object.entries(buildArgs)) args.push("--opt", `build-arg:${k}=${v}`);
      args.push("--output", `type=image,name=${ref},push=true,registry.insecure=true`);
      const r = spawnSync(buildctl, args, { encoding: "utf8", maxBuffer: 256 * 2 ** 20 });
      if (r.status !== 0) throw new Error(`build of ${ref} failed:\n${r.stderr.slice(-4000)}`);
      return r.stderr;
    };
    check(
      "the science app's image uses the rattler installer's named context",
      CONDA_CONTEXT in plan.namedContexts,
    );

    // 3. Build and run. The builder's layer is keyed by the channel URL, not its content:
    // measure from an empty build cache, as CI does (the harness keeps the cache it shares).
    if (!harness) {
      execFileSync(buildctl, ["--addr", buildkit, "prune", "--all"], { stdio: "ignore" });
    }
    const context = path.join(work, APP);
    cpSync(path.join(ROOT, app.path), context, { recursive: true });
    const ref = `${registry}/e2e/${APP}:conda`;
    let output = "";
    const cold = seconds(() => {
      output = build(context, renderDockerfile(spec(false)), ref);
    });
    log(`cold build ${cold.toFixed(1)} s`);
    if (harness) results.push(`figures: build ${cold.toFixed(1)} s`);
    check(
      "environment.yml is solved in the builder",
      /solved \d+ specs to \d+ packages/.test(output),
      installerLines(output),
    );
    const systemPackages = /system-libs: every library[^\n]*/.exec(output)?.[0] ?? "";
    check(
      "the runtime stage verified the env's libraries",
      systemPackages !== "",
      systemPackages || installerLines(output),
    );

    const run = (image: string, name: string): string => {
      const args = ["run", "-d", "--name", name, "--network", "host", "--read-only"];
      args.push("--user", `${UID}:${UID}`, "--cap-drop", "ALL");
      args.push("--security-opt", "no-new-privileges");
      args.push("--tmpfs", `/tmp:rw,mode=1777,size=512m`);
      args.push(image, "gunicorn", "--bind", `127.0.0.1:${appPort}`, "--workers", "2", "app:app");
      execFileSync(docker, ["pull", "--quiet", image], { env: dockerEnv, stdio: "ignore" });
      const out = execFileSync(docker, args, { env: dockerEnv, encoding: "utf8" }).trim();
      containers.push(out);
      return out;
    };
    const id = run(ref, `pyfleet-e2e-science-${process.pid}`);
    const started = Date.now();
    const health = await waitFor(`http://127.0.0.1:${appPort}/health`, 180);
    check(
      "/health answers",
      health.status === 200,
      `${JSON.stringify(await health.json())} after ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    const mandel = await waitFor(`http://127.0.0.1:${appPort}/mandelbrot?width=60&height=30`, 30);
    const body = (await mandel.json()) as { width?: number; inside_fraction?: number };
    check(
      "/mandelbrot (numba) answers",
      body.width === 60 && typeof body.inside_fraction === "number",
      `inside_fraction ${body.inside_fraction}`,
    );
    const inspect = (format: string) =>
      execFileSync(docker, ["inspect", "--format", format, id], {
        env: dockerEnv,
        encoding: "utf8",
      }).trim();
    check(
      "runs as uid 10001 with a read-only root",
      inspect("{{.Config.User}} {{.HostConfig.ReadonlyRootfs}}") === `${UID}:${UID} true`,
    );
    const cache = execFileSync(
      docker,
      ["exec", id, "find", "/tmp/numba-cache", "-type", "f", "-name", "*.nb*"],
      { env: dockerEnv, encoding: "utf8" },
    ).trim();
    check(
      "numba's cache is written under /tmp/numba-cache",
      cache !== "",
      `${cache.split("\n").length} files`,
    );
    const diff = execFileSync(docker, ["diff", id], { env: dockerEnv, encoding: "utf8" }).trim();
    check("nothing is written outside /tmp", diff === "", diff.split("\n").slice(0, 5).join(", "));
    const logs = spawnSync(docker, ["logs", id], { env: dockerEnv, encoding: "utf8" });
    check(
      "no permission errors in the logs",
      !/Permission denied|Read-only file system/.test(logs.stdout + logs.stderr),
    );
    execFileSync(docker, ["rm", "-f", id], { env: dockerEnv, stdio: "ignore" });
    containers.pop();

    const tools = execFileSync(
      "bash",
      [path.join(ROOT, "infra/conda-channel/build.sh"), "--print-tools"],
      { encoding: "utf8" },
    ).trim();
    if (!harness) await measure();
    async function measure(): Promise<void> {
      const size = await imageBytes(registry, `e2e/${APP}`, "conda");
      log(`image ${(size / 2 ** 20).toFixed(1)} MiB compressed`);
      appendFileSync(path.join(context, "app.py"), "\n# e2e: code-only change\n");
      const rebuild = seconds(() =>
        build(context, renderDockerfile(spec(false)), `${ref}-rebuild`),
      );
      results.push(
        `figures: cold build ${cold.toFixed(1)} s, code-only rebuild ${rebuild.toFixed(1)} s, image ${(size / 2 ** 20).toFixed(1)} MiB (compressed layers)`,
      );

      // The pattern users start from: one stage, the env created in place, nothing cleaned
      // (the package cache kept, as `conda env create` without `conda clean` leaves it).
      const naive = [
        `FROM ${infra["PYFLEET_BASE_PYTHON"]!} AS production`,
        "ARG CONDA_CHANNEL",
        "ARG PIP_FIND_LINKS",
        "ARG PIP_NO_INDEX",
        "WORKDIR /app",
        "COPY . .",
        `RUN --mount=type=bind,from=${CONDA_CONTEXT},target=/opt/pyfleet-conda \\`,
        "    python3 -m venv /opt/rattler \\",
        " && /opt/rattler/bin/pip install -r /opt/pyfleet-conda/rattler-requirements.txt \\",
        " && RATTLER_CACHE_DIR=/opt/conda/pkgs /opt/rattler/bin/python /opt/pyfleet-conda/rattler-install.py \\",
        `      --app ${APP} --prefix /opt/conda/envs/app --file environment.yml`,
        "ENV PATH=/opt/conda/envs/app/bin:$PATH",
        `CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]`,
        "",
      ].join("\n");
      build(context, naive, `${registry}/e2e/${APP}:conda-naive`);
      const naiveSize = await imageBytes(registry, `e2e/${APP}`, "conda-naive");
      results.push(
        `figures: image ${(size / 2 ** 20).toFixed(1)} MiB vs naive single-stage ${(naiveSize / 2 ** 20).toFixed(1)} MiB, ratio ${(size / naiveSize).toFixed(2)}`,
      );
      const unpacked = unpackedBytes(docker, dockerEnv, ref);
      const naiveUnpacked = unpackedBytes(docker, dockerEnv, `${registry}/e2e/${APP}:conda-naive`);
      results.push(
        `figures: unpacked image ${(unpacked / 2 ** 20).toFixed(1)} MiB vs naive single-stage ${(naiveUnpacked / 2 ** 20).toFixed(1)} MiB, ratio ${(unpacked / naiveUnpacked).toFixed(2)}`,
      );

      // What each cleaning step of the builder saves, measured on the same env made here.
      const measured = path.join(work, "measured");
      execFileSync(
        path.join(tools, "bin", "python"),
        [
          path.join(ROOT, "images/conda/rattler-install.py"),
          "--app",
          APP,
          "--prefix",
          path.join(measured, "env"),
          "--file",
          path.join(ROOT, app.path, "environment.yml"),
        ],
        {
          env: {
            ...process.env,
            CONDA_CHANNEL: channel,
            PIP_FIND_LINKS: wheelhouseUrl,
            PIP_NO_INDEX: "1",
            RATTLER_CACHE_DIR: path.join(measured, "pkgs"),
          },
          stdio: "inherit",
        },
      );
      results.push(`figures: cleaning saves ${savings(measured)}`);
    }

    // 4. The lock path: conda-lock.yml against the same channel, installed without a solve.
    const locked = path.join(work, `${APP}-locked`);
    cpSync(path.join(ROOT, app.path), locked, { recursive: true });
    execFileSync(
      path.join(tools, "bin", "python"),
      [
        path.join(ROOT, "images/conda/rattler-install.py"),
        "--app",
        APP,
        "--file",
        path.join(locked, "environment.yml"),
        "--lock",
        path.join(locked, "conda-lock.yml"),
      ],
      { env: { ...process.env, CONDA_CHANNEL: channel }, stdio: "inherit" },
    );
    const lockRef = `${registry}/e2e/${APP}:conda-locked`;
    const lockOutput = build(locked, renderDockerfile(spec(true)), lockRef);
    check(
      "the lock is installed without a solve",
      /conda packages from conda-lock\.yml, without a solve/.test(lockOutput) &&
        !/solved \d+ specs/.test(lockOutput),
      installerLines(lockOutput),
    );
    const lockId = run(lockRef, `pyfleet-e2e-science-lock-${process.pid}`);
    const lockHealth = await waitFor(`http://127.0.0.1:${appPort}/health`, 180);
    check("the image built from the lock answers /health", lockHealth.status === 200);
    execFileSync(docker, ["rm", "-f", lockId], { env: dockerEnv, stdio: "ignore" });
    containers.pop();
  } finally {
    for (const id of containers)
      spawnSync(docker, ["rm", "-f", id], { env: dockerEnv, stdio: "ignore" });
    for (const server of servers) server.kill("SIGTERM");
    rmSync(work, { recursive: true, force: true });
  }
  process.stdout.write(`${results.join("\n")}\n`);
  if (results.some((r) => r.startsWith("FAIL"))) process.exitCode = 1;
}

/** Bytes each cleaning step of the conda builder removes from an env (and its package cache). */
function savings(dir: string): string {
  const env = path.join(dir, "env");
  const sum = "du -sbc --files0-from=- | tail -1 | cut -f1";
  const steps: [string, string][] = [
    ["package cache", `du -sb ${dir}/pkgs | cut -f1`],
    ["static libraries", `find ${env} -type f -name '*.a' -print0 | ${sum}`],
    ["bytecode", `find ${env} -type d -name __pycache__ -prune -print0 | ${sum}`],
    [
      "test folders",
      `find ${env} -type d \\( -name tests -o -name test \\) -path '*/site-packages/*' -prune -print0 | ${sum}`,
    ],
    [
      "headers and docs",
      `find ${env}/include ${env}/share/doc ${env}/share/man -maxdepth 0 -print0 2>/dev/null | ${sum}`,
    ],
  ];
  const total = Number(
    execFileSync("bash", ["-c", `du -sb ${env} | cut -f1`], { encoding: "utf8" }).trim(),
  );
  const parts = steps.map(([label, cmd]) => {
    const out = execFileSync("bash", ["-c", cmd], { encoding: "utf8" }).trim();
    return `${label} ${(Number(out || "0") / 2 ** 20).toFixed(1)} MiB`;
  });
  return `${parts.join(", ")} (env ${(total / 2 ** 20).toFixed(1)} MiB before cleaning, uncompressed)`;
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});

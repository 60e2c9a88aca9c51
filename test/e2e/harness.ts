/**
 * End-to-end harness on the real engine: the Pulumi CLI and providers built from the Go module
 * proxy, a real dockerd, registry and BuildKit on loopback (infra/localEnv.ts), and the
 * program run exactly as `npm run pulumi` runs it. Works on a copy of the project in a temp
 * folder, so changing app code and stack config never touches the checkout.
 *
 *   npm run e2e            (writes reports/e2e.json; prints `e2e: N passed, N failed`)
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  LOCAL_PASSPHRASE,
  ROOT,
  localOverrides,
  startLocalEnv,
  writeOverlayConfig,
  type LocalEnv,
} from "../../infra/localEnv";

interface Check {
  name: string;
  passed: boolean;
  detail: string;
}

interface AppOut {
  image: string;
  digest: string;
  repository: string;
  version?: string;
  tags: string[];
}

const checks: Check[] = [];
const figures: Record<string, number | string> = {};
const reports = path.join(ROOT, "reports", "e2e");

function record(name: string, passed: boolean, detail = ""): void {
  checks.push({ name, passed, detail });
  process.stdout.write(`${passed ? "PASS" : "FAIL"} ${name}${detail ? ` — ${detail}` : ""}\n`);
}

function check(name: string, fn: () => string | void): void {
  try {
    record(name, true, fn() ?? "");
  } catch (error) {
    record(name, false, error instanceof Error ? error.message : String(error));
  }
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

interface Run {
  status: number;
  stdout: string;
  output: string;
  seconds: number;
}

/** Copies the working tree (not its dependencies, state or reports) into `dest`. */
function copyProject(dest: string): void {
  mkdirSync(dest, { recursive: true });
  const excludes = ["node_modules", "reports", "rendered", ".pulumi-state"].flatMap((e) => [
    "--exclude",
    `./${e}`,
  ]);
  execFileSync("bash", [
    "-c",
    `tar -C "$0" ${excludes.map((e) => `'${e}'`).join(" ")} -cf - . | tar -C "$1" -xf -`,
    ROOT,
    dest,
  ]);
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dest, "node_modules"));
}

function manifestsUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const full = path.join(d, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(entry)) out.push(full);
    }
  };
  walk(dir);
  return out;
}

async function registryDigest(
  registry: string,
  repository: string,
  tag: string,
): Promise<string | undefined> {
  const name = repository.slice(registry.length + 1);
  const response = await fetch(`http://${registry}/v2/${name}/manifests/${tag}`, {
    method: "HEAD",
    headers: {
      Accept: [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
      ].join(", "),
    },
  });
  return response.ok ? (response.headers.get("docker-content-digest") ?? undefined) : undefined;
}

/** The pretty-printed JSON document in a command's stdout (from a line "{" to a line "}"). */
function jsonBlock(stdout: string): string {
  const lines = stdout.split("\n");
  const start = lines.indexOf("{");
  const end = lines.indexOf("}", start);
  return start >= 0 && end > start ? lines.slice(start, end + 1).join("\n") : "{}";
}

/** Layer digests of an image's (single-platform) manifest, from the registry. */
async function layers(registry: string, app: AppOut): Promise<string[]> {
  const name = app.repository.slice(registry.length + 1);
  const accept = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
  ].join(", ");
  const get = async (ref: string) =>
    (await (
      await fetch(`http://${registry}/v2/${name}/manifests/${ref}`, { headers: { Accept: accept } })
    ).json()) as {
      layers?: { digest: string }[];
      manifests?: { digest: string; platform?: { os?: string } }[];
    };
  let manifest = await get(app.digest);
  if (manifest.manifests) {
    const image =
      manifest.manifests.find((m) => m.platform?.os !== "unknown") ?? manifest.manifests[0];
    manifest = image ? await get(image.digest) : {};
  }
  return (manifest.layers ?? []).map((l) => l.digest);
}

async function waitFor(
  fn: () => Promise<boolean> | boolean,
  seconds: number,
): Promise<number | undefined> {
  const started = Date.now();
  while (Date.now() - started < seconds * 1000) {
    if (await fn()) return (Date.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 500));
  }
  return undefined;
}

async function main(): Promise<number> {
  mkdirSync(reports, { recursive: true });
  const work = mkdtempSync(path.join(tmpdir(), "pyfleet-e2e-"));
  const project = path.join(work, "project");
  let local: LocalEnv | undefined;
  const containers: string[] = [];
  try {
    const setupStart = Date.now();
    local = await startLocalEnv();
    figures["setup_seconds"] = Math.round((Date.now() - setupStart) / 1000);
    record(
      "local engine, registry, BuildKit and toolchain are up",
      true,
      `${figures["setup_seconds"]}s`,
    );
    copyProject(project);

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...local.env,
      PULUMI_BACKEND_URL: `file://${path.join(work, "state")}`,
      PULUMI_CONFIG_PASSPHRASE: LOCAL_PASSPHRASE,
    };
    mkdirSync(path.join(work, "state"), { recursive: true });
    const renderDir = path.join(work, "rendered", "dev");
    const overrides = localOverrides(local, renderDir);
    const configAll = path.join(work, "config", "all.yaml");
    const configPip = path.join(work, "config", "pip.yaml");
    const configBad = path.join(work, "config", "bad.yaml");
    writeOverlayConfig("dev", configAll, overrides, project);
    writeOverlayConfig(
      "dev",
      configPip,
      { ...overrides, "pyfleet:apps": { science: { enabled: false } } },
      project,
    );
    writeOverlayConfig(
      "dev",
      configBad,
      { ...overrides, "pyfleet:apps": { science: { enabled: false } }, "pyfleet:replicas": -1 },
      project,
    );

    const log = path.join(reports, "pulumi.log");
    writeFileSync(log, "");
    const pulumi = (label: string, args: string[]): Run => {
      const started = Date.now();
      const result = spawnSync(
        process.execPath,
        ["-r", "ts-node/register/transpile-only", path.join(project, "cli", "pulumi.ts"), ...args],
        { cwd: project, env, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 },
      );
      const output = `${result.stdout}\n${result.stderr}`;
      appendFileSync(
        log,
        `\n===== ${label}: pulumi ${args.join(" ")} (exit ${result.status})\n${output}`,
      );
      return {
        status: result.status ?? 1,
        stdout: result.stdout,
        output,
        seconds: (Date.now() - started) / 1000,
      };
    };
    const outputs = (): Record<string, AppOut> => {
      const run = pulumi("outputs", ["outputs", "dev", "--config-file", configPip]);
      const json = jsonBlock(run.stdout);
      return (JSON.parse(json) as { apps?: Record<string, AppOut> }).apps ?? {};
    };

    // 1. Preview everything, the conda app included (conda channels are unreachable here, and
    //    previews do not build).
    const preview = pulumi("preview", ["preview", "dev", "--config-file", configAll]);
    figures["preview_seconds"] = Number(preview.seconds.toFixed(1));
    check("pulumi preview of dev succeeds and plans all three images", () => {
      assert(preview.status === 0, `preview failed:\n${preview.output.slice(-3000)}`);
      for (const app of ["dashboard", "vectors", "science"]) {
        assert(preview.output.includes(`${app}-image`), `no ${app}-image in the plan`);
      }
      return `${preview.seconds.toFixed(1)}s`;
    });

    // 2. A real up of the pip apps: built on BuildKit, pushed to the registry.
    const up = pulumi("up", ["up", "dev", "--yes", "--config-file", configPip]);
    figures["cold_up_seconds"] = Number(up.seconds.toFixed(1));
    check("pulumi up of dev builds and pushes the pip apps", () => {
      assert(up.status === 0, `up failed:\n${up.output.slice(-4000)}`);
      return `${up.seconds.toFixed(1)}s`;
    });
    const apps = up.status === 0 ? outputs() : {};
    const sha = execFileSync("git", ["-C", ROOT, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    for (const app of ["dashboard", "vectors"]) {
      const out = apps[app];
      const expectedTags = [out?.version, `sha-${sha.slice(0, 7)}`, "dev"].filter(
        Boolean,
      ) as string[];
      const tagDigests: string[] = [];
      for (const tag of expectedTags) {
        tagDigests.push(
          out
            ? ((await registryDigest(local.registry, out.repository, tag)) ?? `none for ${tag}`)
            : "none",
        );
      }
      check(`${app}: version, sha-<short> and dev tags resolve to the output digest`, () => {
        assert(out, `no ${app} in the stack outputs`);
        assert(/^sha256:[a-f0-9]{64}$/.test(out.digest), `bad digest ${out.digest}`);
        tagDigests.forEach((d, i) => {
          const tag = expectedTags[i]!;
          // A dirty checkout builds sha-<short>-dirty instead.
          assert(
            d === out.digest || tag.startsWith("sha-"),
            `${tag} -> ${d}, expected ${out.digest}`,
          );
        });
        const shaTag = out.tags.find((t) => t.includes(":sha-"));
        assert(
          shaTag?.includes(`sha-${sha.slice(0, 7)}`),
          `sha tag ${shaTag} does not name ${sha.slice(0, 7)}`,
        );
        return expectedTags.map((t, i) => `${t}=${tagDigests[i]?.slice(7, 19)}`).join(" ");
      });
      check(`${app}: rendered manifests pin the digest`, () => {
        assert(out, "no outputs");
        const files = manifestsUnder(renderDir);
        const pinned = files.filter((f) => readFileSync(f, "utf8").includes(`image: ${out.image}`));
        assert(
          pinned.length === 1,
          `expected one manifest with image ${out.image}, found ${pinned.length} of ${files.length}`,
        );
        return path.relative(work, pinned[0]!);
      });
    }
    check("the conda app was left out of the build, as configured", () => {
      assert(!("science" in apps), "science was deployed although disabled");
    });

    // 3. Each image runs hardened, answers its health endpoint and runs as the non-root uid.
    const runs: [string, number, string][] = [
      ["dashboard", 8501, "/_stcore/health"],
      ["vectors", 8000, "/health"],
    ];
    for (const [app, port, healthPath] of runs) {
      const out = apps[app];
      if (!out) {
        record(`${app}: image runs and answers ${healthPath}`, false, "not built");
        continue;
      }
      const name = `pyfleet-e2e-${app}`;
      spawnSync(local.docker, ["rm", "-f", name], { env, stdio: "ignore" });
      const started = spawnSync(
        local.docker,
        [
          "run",
          "-d",
          "--name",
          name,
          "--network",
          "host",
          "--read-only",
          "--tmpfs",
          "/tmp:rw,mode=1777",
          "--cap-drop",
          "ALL",
          "--security-opt",
          "no-new-privileges",
          out.image,
        ],
        { env, encoding: "utf8" },
      );
      containers.push(name);
      const seconds = await waitFor(async () => {
        try {
          return (await fetch(`http://127.0.0.1:${port}${healthPath}`)).status === 200;
        } catch {
          return false;
        }
      }, 120);
      figures[`${app}_healthy_seconds`] = seconds ?? -1;
      check(
        `${app}: image runs read-only with no capabilities and answers ${healthPath} with 200`,
        () => {
          assert(started.status === 0, `docker run failed: ${started.stderr}`);
          assert(seconds !== undefined, "no 200 within 120s");
          return `${seconds.toFixed(1)}s`;
        },
      );
      const healthy = await waitFor(() => {
        const state = spawnSync(
          local!.docker,
          ["inspect", "-f", "{{.State.Health.Status}}", name],
          { env, encoding: "utf8" },
        );
        return state.stdout.trim() === "healthy";
      }, 60);
      check(`${app}: Docker HEALTHCHECK reports healthy`, () => {
        assert(healthy !== undefined, "not healthy within 60s");
      });
      check(`${app}: the process runs as uid 10001`, () => {
        const pid = spawnSync(local!.docker, ["inspect", "-f", "{{.State.Pid}}", name], {
          env,
          encoding: "utf8",
        }).stdout.trim();
        const status = readFileSync(`/proc/${pid}/status`, "utf8");
        const uid = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
        assert(uid?.[1] === "10001" && uid[2] === "10001", `Uid line: ${uid?.[0]}`);
        return `pid ${pid}`;
      });
      spawnSync(local.docker, ["rm", "-f", name], { env, stdio: "ignore" });
    }

    // Promotion: staging and prod never build; they deploy dev's digests and tag them.
    const promoteConfig = (stack: "staging" | "prod", extra: Record<string, unknown> = {}) => {
      const file = path.join(work, "config", `${stack}-${Object.keys(extra).length}.yaml`);
      writeOverlayConfig(
        stack,
        file,
        {
          "pyfleet:registry": `${local!.registry}/pyfleet`,
          "pyfleet:renderDir": path.join(work, "rendered", stack),
          "pyfleet:apps": { science: { enabled: false } },
          ...extra,
        },
        project,
      );
      return file;
    };
    const stackOutputs = (stack: string, config: string): Record<string, AppOut> => {
      const run = pulumi(`outputs ${stack}`, ["outputs", stack, "--config-file", config]);
      return (JSON.parse(jsonBlock(run.stdout)) as { apps?: Record<string, AppOut> }).apps ?? {};
    };
    for (const stack of ["staging", "prod"] as const) {
      const config = promoteConfig(stack);
      const plan = pulumi(`preview ${stack}`, [
        "preview",
        stack,
        "--json",
        "--config-file",
        config,
      ]);
      const promote = pulumi(`up ${stack}`, ["up", stack, "--yes", "--config-file", config]);
      const promoted = promote.status === 0 ? stackOutputs(stack, config) : {};
      check(`${stack}: plans no image build and promotes without rebuilding`, () => {
        assert(plan.status === 0, `preview failed:\n${plan.output.slice(-3000)}`);
        const steps =
          (JSON.parse(jsonBlock(plan.stdout)) as { steps?: { urn: string }[] }).steps ?? [];
        assert(steps.length > 0, "empty plan");
        assert(
          !steps.some((st) => st.urn.includes("docker-build:index:Image")),
          "an Image is in the plan",
        );
        assert(promote.status === 0, `up failed:\n${promote.output.slice(-3000)}`);
        return `up ${promote.seconds.toFixed(1)}s`;
      });
      for (const app of ["dashboard", "vectors"]) {
        const source = apps[app];
        const out = promoted[app];
        const envDigest = source
          ? await registryDigest(local.registry, source.repository, stack)
          : undefined;
        const versionDigest =
          source?.version !== undefined
            ? await registryDigest(local.registry, source.repository, source.version)
            : undefined;
        check(
          `${stack}: ${app} runs dev's digest, and :${stack} and :<version> resolve to it`,
          () => {
            assert(source && out, "missing outputs");
            assert(
              out.digest === source.digest,
              `${stack} runs ${out.digest}, dev ${source.digest}`,
            );
            assert(envDigest === source.digest, `:${stack} -> ${envDigest}`);
            assert(versionDigest === source.digest, `:${source.version} -> ${versionDigest}`);
            const files = manifestsUnder(path.join(work, "rendered", stack));
            assert(
              files.some((f) => readFileSync(f, "utf8").includes(`image: ${source.image}`)),
              "rendered manifests do not pin dev's digest",
            );
            return source.digest.slice(0, 19);
          },
        );
      }
    }
    const stray = `${local.registry}/pyfleet/vectors@sha256:${"0".repeat(64)}`;
    const guardConfig = promoteConfig("prod", { "pyfleet:images": { pins: { vectors: stray } } });
    const guard = pulumi("prod guard", ["preview", "prod", "--config-file", guardConfig]);
    check("prod refuses a digest staging does not run", () => {
      assert(guard.status !== 0, "preview succeeded");
      assert(
        guard.output.includes(
          `is not the digest staging runs now (${apps["vectors"]?.digest ?? ""})`,
        ),
        `no guard error:\n${guard.output.slice(-2000)}`,
      );
    });

    // Policy as code: the pack passes pyfleet's own objects, and a loosened override that the
    // settings allow (a public host without TLS) fails a preview where the pack is mandatory.
    const policy = path.join(project, "policy");
    const advisory = pulumi("policy dev", [
      "preview",
      "dev",
      "--config-file",
      configPip,
      "--policy-pack",
      policy,
      "--policy-pack-config",
      path.join(policy, "config", "dev.json"),
    ]);
    check("the policy pack passes pyfleet's dev stack", () => {
      assert(advisory.status === 0, `preview failed:\n${advisory.output.slice(-3000)}`);
      assert(
        /pyfleet/.test(advisory.output) && /Polic/i.test(advisory.output),
        "no policy pack in the output",
      );
    });
    const mandatory = path.join(work, "config", "policy-mandatory.json");
    writeFileSync(
      mandatory,
      JSON.stringify({
        all: "mandatory",
        "workload-replicas": { environment: "dev" },
        "workload-replicas-autoscaled": { environment: "dev" },
      }),
    );
    const loose = path.join(work, "config", "loose.yaml");
    writeOverlayConfig(
      "dev",
      loose,
      {
        ...overrides,
        "pyfleet:apps": {
          science: { enabled: false },
          vectors: { ingress: { host: "vectors.example.com" } },
        },
      },
      project,
    );
    const violated = pulumi("policy mandatory", [
      "preview",
      "dev",
      "--config-file",
      loose,
      "--policy-pack",
      policy,
      "--policy-pack-config",
      mandatory,
    ]);
    check("a loosened override fails the preview on a mandatory policy", () => {
      assert(violated.status !== 0, "preview succeeded");
      assert(
        /mandatory/.test(violated.output) && /vectors\.example\.com/.test(violated.output),
        `no violation:\n${violated.output.slice(-3000)}`,
      );
      const line = violated.output.split("\n").find((l) => l.includes("vectors.example.com"));
      return line?.trim().slice(0, 160) ?? "";
    });

    // 4. A code-only change: only that app's image changes, and its rebuild reuses the
    //    dependency layers.
    appendFileSync(
      path.join(project, "apps", "vectors", "vectors", "main.py"),
      "\n# e2e: code-only change\n",
    );
    const diff = pulumi("preview --diff", [
      "preview",
      "dev",
      "--diff",
      "--json",
      "--config-file",
      configPip,
    ]);
    check("preview --diff after a code-only change updates the vectors image only", () => {
      assert(diff.status === 0, `preview failed:\n${diff.output.slice(-3000)}`);
      writeFileSync(path.join(reports, "preview-diff.json"), diff.stdout);
      const json = JSON.parse(jsonBlock(diff.stdout)) as {
        steps?: { op: string; urn: string }[];
      };
      const imageSteps = (json.steps ?? []).filter((s) =>
        s.urn.includes("docker-build:index:Image"),
      );
      const changed = imageSteps.filter((s) => s.op !== "same").map((s) => s.urn.split("::").pop());
      assert(
        changed.length === 1 && changed[0] === "vectors-image",
        `changed images: ${changed.join(", ") || "none"}`,
      );
      return imageSteps.map((s) => `${s.urn.split("::").pop()}:${s.op}`).join(" ");
    });
    const rebuild = pulumi("up after code change", [
      "up",
      "dev",
      "--yes",
      "--config-file",
      configPip,
    ]);
    figures["code_only_up_seconds"] = Number(rebuild.seconds.toFixed(1));
    const after = rebuild.status === 0 ? outputs() : {};
    const oldLayers = apps["vectors"] ? await layers(local.registry, apps["vectors"]) : [];
    const newLayers = after["vectors"] ? await layers(local.registry, after["vectors"]) : [];
    const reused = newLayers.filter((l, i) => oldLayers[i] === l).length;
    figures["code_only_layers_reused"] = `${reused}/${newLayers.length}`;
    check(
      "the code-only rebuild reuses every dependency layer (only the code layer is new)",
      () => {
        assert(rebuild.status === 0, `up failed:\n${rebuild.output.slice(-3000)}`);
        assert(
          after["vectors"]?.digest !== apps["vectors"]?.digest,
          "the vectors digest did not change",
        );
        assert(
          newLayers.length > 1 && reused === newLayers.length - 1,
          `reused ${reused} of ${newLayers.length} layers`,
        );
        assert(
          after["dashboard"]?.digest === apps["dashboard"]?.digest,
          "the dashboard image changed too",
        );
        return `${reused}/${newLayers.length} layers reused; up ${rebuild.seconds.toFixed(1)}s (cold up ${up.seconds.toFixed(1)}s)`;
      },
    );

    // 5. Bad settings fail the preview with the settings error, and nothing changes.
    const exportState = () =>
      spawnSync("pulumi", ["stack", "export", "--stack", "dev", "--cwd", project], {
        env,
        encoding: "utf8",
      }).stdout;
    const before = exportState();
    const bad = pulumi("bad config", ["preview", "dev", "--config-file", configBad]);
    check(
      "a bad stack config fails the preview with the settings error and changes nothing",
      () => {
        assert(bad.status !== 0, "preview succeeded with replicas -1");
        assert(
          bad.output.includes("pyfleet:replicas: must be >= 0, got -1"),
          `no settings error:\n${bad.output.slice(-2000)}`,
        );
        const after = exportState();
        assert(before.length > 0 && before === after, "the stack state changed");
      },
    );

    // 6. Destroy, promoted stacks first.
    for (const stack of ["prod", "staging"] as const) {
      const gone = pulumi(`destroy ${stack}`, [
        "destroy",
        stack,
        "--yes",
        "--config-file",
        promoteConfig(stack),
      ]);
      check(`pulumi destroy ${stack}`, () => assert(gone.status === 0, gone.output.slice(-2000)));
    }
    const destroy = pulumi("destroy", ["destroy", "dev", "--yes", "--config-file", configPip]);
    check("pulumi destroy removes everything", () => {
      assert(destroy.status === 0, `destroy failed:\n${destroy.output.slice(-3000)}`);
      const left = JSON.parse(exportState() || "{}") as { deployment?: { resources?: unknown[] } };
      assert((left.deployment?.resources ?? []).length === 0, "resources remain in the state");
    });
  } catch (error) {
    record(
      "harness ran to the end",
      false,
      error instanceof Error ? (error.stack ?? error.message) : String(error),
    );
  } finally {
    for (const name of containers)
      spawnSync(local?.docker ?? "docker", ["rm", "-f", name], {
        env: { ...process.env, ...(local?.env ?? {}) },
        stdio: "ignore",
      });
    local?.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const passed = checks.filter((c) => c.passed).length;
  const failed = checks.length - passed;
  writeFileSync(
    path.join(ROOT, "reports", "e2e.json"),
    JSON.stringify({ passed, failed, checks, figures }, null, 2),
  );
  process.stdout.write(
    `figures: ${JSON.stringify(figures)}\ne2e: ${passed} passed, ${failed} failed\n`,
  );
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exitCode = 1;
  },
);

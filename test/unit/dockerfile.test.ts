import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  CONDA_CONTEXT_DIR,
  command,
  renderDockerfile,
  renderDockerignore,
  type DockerfileSpec,
} from "../../model/dockerfile";
import { REQUIRED_DOCKERIGNORE, missingDockerignorePatterns } from "../../policy/vocabulary";
import { imagePlan } from "../../model/imagePlan";
import { probes } from "../../model/workload";
import { DEFAULT_BASE_IMAGES } from "../../stacks/environments";
import { resolveSettings } from "../../stacks/settings";
import type { AppSettings } from "../../stacks/types";
import { sources } from "../support/sources";

const settings = resolveSettings(sources());

function specFor(app: AppSettings): DockerfileSpec {
  return imagePlan({
    app,
    environment: "dev",
    registry: settings.registry,
    build: settings.build,
    tags: settings.tags,
  }).dockerfile;
}

/** Instructions of one named stage. */
function stage(dockerfile: string, name: string): string[] {
  const stages = dockerfile.split(/^(?=FROM )/m).filter((s) => s.startsWith("FROM "));
  const found = stages.find((s) => new RegExp(`^FROM \\S+ AS ${name}$`, "m").test(s));
  if (!found) throw new Error(`no stage ${name}`);
  return found.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
}

const variants: [string, Partial<DockerfileSpec>][] = [
  ["plain", {}],
  ["with dev dependencies and apt packages", { devDependencies: true, aptPackages: ["libgomp1"] }],
  ["with a conda lock", { condaLock: true }],
  ["with the rattler installer", { condaInstaller: "rattler" }],
  [
    "with the rattler installer, a lock and dev dependencies",
    { condaInstaller: "rattler", condaLock: true, devDependencies: true },
  ],
];

describe.each(settings.apps.map((a) => [a.name, a] as const))("Dockerfile of %s", (_name, app) => {
  const text = renderDockerfile(specFor(app));
  const production = stage(text, "production");

  it("D8 has named stages, production last", () => {
    const names = [...text.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
    expect(names[0]).toBe("builder");
    expect(names.at(-1)).toBe("production");
    expect(names).toContain("runtime");
    expect(names).toContain("development");
    for (const m of text.matchAll(/--from=(\S+?)[\s,]/g)) expect(names).toContain(m[1]);
  });

  it("D2 K4 ends with a numeric non-root USER equal to the pod's uid", () => {
    const user = production.filter((l) => l.startsWith("USER "));
    expect(user).toEqual([`USER ${app.build.uid}:${app.build.uid}`]);
    expect(app.build.uid).toBeGreaterThanOrEqual(1000);
  });

  it("D7 copies the dependency spec before the code, and the code last", () => {
    const lines = text.split("\n");
    const spec = lines.findIndex((l) => /^COPY (requirements|pyproject|environment)/.test(l));
    const code = lines.findIndex((l) => l === "COPY --chmod=u=rwX,go=rX . .");
    expect(spec).toBeGreaterThan(-1);
    expect(code).toBeGreaterThan(spec);
    const copyIndex = production.indexOf("COPY --chmod=u=rwX,go=rX . .");
    expect(
      production
        .slice(copyIndex + 1)
        .every((l) => /^(USER|EXPOSE|HEALTHCHECK| {2}CMD|CMD)/.test(l)),
    ).toBe(true);
  });

  it("D7 D8 keeps build tools out of the runtime stages", () => {
    for (const name of ["runtime", "production"]) {
      const body = stage(text, name).join("\n");
      expect(body).not.toMatch(/build-essential|gcc|g\+\+|micromamba|conda create|pip wheel/);
    }
  });

  it("D10 HEALTHCHECK polls the liveness probe path on the container port", () => {
    const health = production.join("\n");
    const live = probes(app).livenessProbe as { httpGet?: { path: string } };
    expect(health).toContain(`http://127.0.0.1:${app.port}${app.health.livenessPath}`);
    if (live.httpGet) expect(live.httpGet.path).toBe(app.health.livenessPath);
    expect(health).toContain(`--start-period=${app.health.startupBudgetSeconds}s`);
  });

  it("D9 D15 EXPOSEs the container port and runs its command in JSON form", () => {
    expect(production).toContain(`EXPOSE ${app.port}`);
    const cmd = production.find((l) => l.startsWith("CMD "))!;
    expect(JSON.parse(cmd.slice(4))).toEqual(command(app));
  });

  it("K10 sets the Python and writable-path environment", () => {
    const env = stage(text, "runtime").join("\n");
    for (const v of [
      "PYTHONUNBUFFERED=1",
      "PYTHONDONTWRITEBYTECODE=1",
      "HOME=/tmp/home",
      "TMPDIR=/tmp",
      "NUMBA_CACHE_DIR=/tmp/numba-cache",
      "MPLCONFIGDIR=/tmp/matplotlib",
    ]) {
      expect(env).toContain(v);
    }
  });

  it("D1 D3 D4 D11 D14 uses tagged base images, absolute WORKDIRs, COPY not ADD, no secret-like ARG", () => {
    for (const m of text.matchAll(/^FROM (\S+)/gm)) {
      const base = m[1]!;
      const isStage = ["builder", "runtime", "dev-builder"].includes(base);
      if (!isStage) expect(base).toMatch(/:[A-Za-z0-9_][A-Za-z0-9_.-]*(@sha256:[a-f0-9]{64})?$/);
    }
    for (const m of text.matchAll(/^WORKDIR (\S+)/gm)) expect(m[1]).toMatch(/^\//);
    expect(text).not.toMatch(/^ADD /m);
    expect(text).not.toMatch(/^MAINTAINER /m);
    expect(text).not.toMatch(/\bsudo\b/);
    for (const m of text.matchAll(/^ARG (\S+)/gm))
      expect(m[1]).not.toMatch(/PASS|SECRET|TOKEN|KEY/i);
  });
});

describe("flavour specifics", () => {
  const base = (flavour: "pip" | "conda"): DockerfileSpec => ({
    app: "demo",
    flavour,
    kind: "fastapi",
    entrypoint: "main:app",
    port: 8000,
    healthPath: "/health",
    startupBudgetSeconds: 60,
    uid: 10001,
    baseImages: DEFAULT_BASE_IMAGES,
  });

  it("D6 pip: wheels in the builder, installed offline into a venv in the runtime", () => {
    const text = renderDockerfile(base("pip"));
    expect(stage(text, "builder").join("\n")).toContain(
      "pip wheel --no-cache-dir --wheel-dir /wheels -r requirements.txt",
    );
    expect(stage(text, "runtime").join("\n")).toContain(
      "/opt/venv/bin/pip install --no-cache-dir --no-index --find-links=/wheels -r /wheels/requirements.txt",
    );
    expect(stage(text, "builder").join("\n")).toContain(
      "apt-get install -y --no-install-recommends build-essential",
    );
    expect(stage(text, "builder").join("\n")).toContain("rm -rf /var/lib/apt/lists/*");
    expect(text).toContain("--mount=type=secret,id=pip-conf,target=/etc/pip.conf,required=false");
  });

  it("passes package index locations as build arguments, never credentials", () => {
    const vectors = settings.apps.find((a) => a.name === "vectors")!;
    const plan = imagePlan({
      app: vectors,
      environment: "dev",
      registry: settings.registry,
      build: {
        ...settings.build,
        pipIndexUrl: "https://pypi.internal/simple",
        pipFindLinks: "http://127.0.0.1:8080/",
        pipNoIndex: true,
      },
      tags: settings.tags,
    });
    expect(plan.buildArgs).toEqual({
      SOURCE_DATE_EPOCH: expect.stringMatching(/^\d+$/),
      PIP_INDEX_URL: "https://pypi.internal/simple",
      PIP_FIND_LINKS: "http://127.0.0.1:8080/",
      PIP_NO_INDEX: "1",
    });
    for (const arg of Object.keys(plan.buildArgs))
      expect(renderDockerfile(plan.dockerfile)).toContain(`ARG ${arg}`);
  });

  it("pip: pyproject.toml dependencies when there is no requirements file", () => {
    const text = renderDockerfile({ ...base("pip"), dependencyFile: "pyproject.toml" });
    expect(text).toContain("COPY pyproject.toml ./");
    expect(text).toContain("tomllib");
  });

  it("D7 conda: env solved and cleaned in one layer, copied into a slim runtime", () => {
    const text = renderDockerfile(base("conda"));
    const builder = stage(text, "builder").join("\n");
    expect(stage(text, "builder")[0]).toBe(`FROM ${DEFAULT_BASE_IMAGES.condaBuilder} AS builder`);
    expect(builder).toContain(
      "    micromamba create --yes --prefix /opt/conda/envs/app --file environment.yml \\\n" +
        '      ${CONDA_CHANNEL:+--override-channels --channel "$CONDA_CHANNEL"} \\\n' +
        " && micromamba clean -afy \\\n",
    );
    expect(builder).toContain("-name '*.a' -delete");
    expect(builder).toContain("__pycache__");
    expect(stage(text, "runtime").join("\n")).toContain(
      "COPY --from=builder /opt/conda/envs/app /opt/conda/envs/app",
    );
    expect(stage(text, "runtime")[0]).toBe(`FROM ${DEFAULT_BASE_IMAGES.condaRuntime} AS runtime`);
  });

  it("conda: a lock file is installed without a solve", () => {
    const text = renderDockerfile({ ...base("conda"), condaLock: true });
    expect(text).toContain("COPY environment.yml conda-lock.yml ./");
    expect(text).toContain("--file conda-lock.yml");
    // The lock names every package by URL: no channel override, nothing to solve.
    expect(text).not.toContain("--override-channels");
  });

  it.each(["micromamba", "rattler"] as const)(
    "conda (%s): one builder RUN creates, cleans and scans the env; the runtime installs and verifies what it links to",
    (installer) => {
      const text = renderDockerfile({ ...base("conda"), condaInstaller: installer });
      const builder = stage(text, "builder");
      const runs = builder.filter((l) => l.startsWith("RUN "));
      expect(runs).toHaveLength(1);
      const run = builder.slice(builder.indexOf(runs[0]!)).join("\n");
      expect(run).toMatch(/^RUN --mount=type=bind,from=pyfleet-conda,target=\/opt\/pyfleet-conda /);
      expect(run).toContain("rm -rf /opt/conda/envs/app/include");
      expect(run).toMatch(
        /system-libs\.sh packages \/opt\/conda\/envs\/app > \/opt\/conda\/system-packages\.txt$/,
      );
      const runtime = stage(text, "runtime").join("\n");
      expect(runtime).toContain(
        "RUN --mount=type=bind,from=builder,source=/opt/conda/system-packages.txt,target=/tmp/system-packages.txt \\\n" +
          "    apt-get update \\\n" +
          " && xargs --arg-file=/tmp/system-packages.txt apt-get install -y --no-install-recommends \\\n" +
          " && rm -rf /var/lib/apt/lists/*",
      );
      // Installed before the env is copied in, verified right after.
      expect(runtime.indexOf("system-packages.txt")).toBeLessThan(
        runtime.indexOf("COPY --from=builder"),
      );
      expect(runtime.indexOf("system-libs.sh verify /opt/conda/envs/app")).toBeGreaterThan(
        runtime.indexOf("COPY --from=builder"),
      );
      expect(text).toContain("ARG CONDA_CHANNEL");
    },
  );

  it("conda (rattler): the pip base with a throwaway installer venv, same prefix, nothing left", () => {
    const text = renderDockerfile({ ...base("conda"), condaInstaller: "rattler" });
    const builder = stage(text, "builder").join("\n");
    expect(stage(text, "builder")[0]).toBe(`FROM ${DEFAULT_BASE_IMAGES.python} AS builder`);
    expect(builder).toContain(
      "/opt/rattler/bin/python /opt/pyfleet-conda/rattler-install.py --app demo \\\n" +
        "      --prefix /opt/conda/envs/app --file environment.yml",
    );
    expect(builder).toContain(" && rm -rf /opt/rattler \\");
    expect(builder).not.toContain("micromamba");
    const locked = renderDockerfile({
      ...base("conda"),
      condaInstaller: "rattler",
      condaLock: true,
    });
    expect(locked).toContain("--prefix /opt/conda/envs/app --file conda-lock.yml");
  });

  it("conda: app apt packages join the derived ones in the same layer", () => {
    const text = renderDockerfile({ ...base("conda"), aptPackages: ["tzdata", "libgomp1"] });
    expect(stage(text, "runtime").join("\n")).toContain(
      "apt-get install -y --no-install-recommends libgomp1 tzdata \\",
    );
    expect(stage(text, "runtime").filter((l) => l.includes("apt-get update"))).toHaveLength(1);
    // ...and in the builder, before the env is made, so the library scan can attribute them.
    const builder = stage(text, "builder");
    const apt = builder.findIndex((l) => l.includes("apt-get install"));
    expect(builder[apt]).toContain("--no-install-recommends libgomp1 tzdata");
    expect(apt).toBeLessThan(builder.findIndex((l) => l.includes("micromamba create")));
    expect(builder).toContain("USER 0");
  });

  it("stamps the image with the commit time (SOURCE_DATE_EPOCH), and nothing when unknown", () => {
    const vectors = settings.apps.find((a) => a.name === "vectors")!;
    const at = (committedAt?: string) =>
      imagePlan({
        app: {
          ...vectors,
          revision: { sha: "0".repeat(40), dirty: false, ...(committedAt ? { committedAt } : {}) },
        },
        environment: "dev",
        registry: settings.registry,
        build: settings.build,
        tags: settings.tags,
      }).buildArgs["SOURCE_DATE_EPOCH"];
    expect(at("2026-11-30T12:00:00+01:00")).toBe("1796036400");
    expect(at(undefined)).toBeUndefined();
    expect(at("not a time")).toBeUndefined();
  });

  it("conda: the tool context and the channel argument come from the plan", () => {
    const science = settings.apps.find((a) => a.name === "science")!;
    const plan = imagePlan({
      app: { ...science, build: { ...science.build, condaInstaller: "rattler" } },
      environment: "dev",
      registry: settings.registry,
      build: { ...settings.build, condaChannel: "http://127.0.0.1:8470" },
      tags: settings.tags,
    });
    expect(plan.namedContexts).toEqual({ "pyfleet-conda": "images/conda" });
    expect(plan.buildArgs).toEqual({
      SOURCE_DATE_EPOCH: expect.stringMatching(/^\d+$/),
      CONDA_CHANNEL: "http://127.0.0.1:8470",
    });
    expect(plan.dockerfile.condaInstaller).toBe("rattler");
    const vectors = settings.apps.find((a) => a.name === "vectors")!;
    const pip = imagePlan({
      app: vectors,
      environment: "dev",
      registry: settings.registry,
      build: { ...settings.build, condaChannel: "http://127.0.0.1:8470" },
      tags: settings.tags,
    });
    expect(pip.namedContexts).toEqual({});
    expect(pip.buildArgs).toEqual({ SOURCE_DATE_EPOCH: expect.stringMatching(/^\d+$/) });
  });

  it("conda: every file the Dockerfile mounts from the tool context exists there", () => {
    const text = renderDockerfile({ ...base("conda"), condaInstaller: "rattler" });
    const used = new Set([...text.matchAll(/\/opt\/pyfleet-conda\/([\w.-]+)/g)].map((m) => m[1]!));
    expect([...used].sort()).toEqual([
      "rattler-install.py",
      "rattler-requirements.txt",
      "system-libs.sh",
    ]);
    for (const file of used) {
      expect(existsSync(path.join(__dirname, "..", "..", CONDA_CONTEXT_DIR, file))).toBe(true);
    }
  });

  it("worker: exec heartbeat HEALTHCHECK, no port", () => {
    const text = renderDockerfile({
      ...base("pip"),
      kind: "worker",
      entrypoint: "jobs",
      port: undefined,
      healthPath: undefined,
    });
    expect(text).not.toMatch(/^EXPOSE/m);
    expect(text).toContain("/tmp/heartbeat");
    expect(text).toContain('CMD ["python", "-m", "jobs"]');
  });

  it("rejects a root uid and a malformed apt package", () => {
    expect(() => renderDockerfile({ ...base("pip"), uid: 0 })).toThrow(
      "uid must be a non-root numeric id >= 1000, got 0",
    );
    expect(() => renderDockerfile({ ...base("pip"), aptPackages: ["libgomp1; rm -rf /"] })).toThrow(
      'apt package "libgomp1; rm -rf /" is not a Debian package name',
    );
  });

  it("D12 the generated .dockerignore covers every required pattern", () => {
    expect(missingDockerignorePatterns(renderDockerignore())).toEqual([]);
    expect(missingDockerignorePatterns("node_modules\n/.git/\n")).toEqual(
      REQUIRED_DOCKERIGNORE.filter((p) => p !== "node_modules" && p !== ".git"),
    );
  });
});

describe("hadolint", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "pyfleet-hadolint-"));
  const files: string[] = [];
  for (const app of settings.apps) {
    for (const [label, extra] of variants) {
      const file = path.join(dir, `Dockerfile.${app.name}.${label.replaceAll(" ", "-")}`);
      writeFileSync(file, renderDockerfile({ ...specFor(app), ...extra }));
      files.push(file);
    }
  }

  it.each(files.map((f) => [path.basename(f), f]))("D5 D13 %s has no findings", (_label, file) => {
    // .ci/run installs hadolint (ci/install-checkers.sh); a missing binary fails the test.
    const out = execFileSync("hadolint", ["--no-color", "--failure-threshold", "info", file], {
      encoding: "utf8",
    });
    expect(out).toBe("");
  });
});

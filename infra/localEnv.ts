/**
 * The local build environment pyfleet's quick start and end-to-end harness run on, all on
 * loopback: the Pulumi toolchain (built from the Go module proxy when missing), Debian's
 * dockerd, a registry and a BuildKit daemon with debootstrap base images
 * (infra/local-infra.sh), a wheelhouse of the pip apps' dependencies served over HTTP so
 * image builds need no package index, and the local conda channel (infra/conda-channel) for
 * the conda apps, with the wheels their builders' pip installs in the same wheelhouse.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import * as path from "node:path";
import { parse as parseYaml, stringify } from "yaml";
import { CRANE_VARIABLE } from "../components/crane";
import { localSettingsFile } from "../stacks/localSettings";

/** Project root. */
export const ROOT = path.resolve(__dirname, "..");

/** Passphrase of the embedded local default (the committed stack salts); never for shared state. */
export const LOCAL_PASSPHRASE = "pyfleet-local-only";

/** What the local environment provides. */
export interface LocalEnv {
  /** Environment for Pulumi and docker commands (PATH, DOCKER_HOST, DOCKER_CONFIG, ...). */
  env: Record<string, string>;
  /** Registry `127.0.0.1:port`, the address to reach it by. */
  registry: string;
  /**
   * The same registry as stacks name it, `localhost:port`: the committed stacks and the policy
   * pack's allowedRegistries use that name, and BuildKit trusts both.
   */
  registryName: string;
  /** Base image for the pip flavour. */
  basePython: string;
  /** Base image for the conda runtime. */
  baseDebian: string;
  /** buildx builder name. */
  builder: string;
  /** URL of the wheelhouse. */
  wheelhouseUrl: string;
  /** URL of the local conda channel; undefined when conda apps are left out (PYFLEET_BUILD_CONDA=0). */
  condaChannelUrl?: string;
  /** Debian's docker client. */
  docker: string;
  /** Whether this call started the infrastructure (and so should stop it). */
  startedInfra: boolean;
  /** Stops what this call started, by pid; `keepInfra` leaves the engine and registry up. */
  stop(options?: { keepInfra?: boolean }): void;
}

function log(message: string): void {
  process.stderr.write(`[local-env] ${message}\n`);
}

/** Builds (or finds) crane, the registry client of registry-side tags, and returns its path. */
export function craneBinary(): string {
  const out = execFileSync("bash", [path.join(ROOT, "infra", "crane.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const crane = out.trim().split("\n").pop() ?? "";
  if (!existsSync(crane)) throw new Error(`infra/crane.sh printed no crane binary (${crane})`);
  return crane;
}

/** Builds (or finds) one of infra/go-tools.sh's tools (cosign, syft, osv-scanner) and returns its path. */
export function goTool(tool: "cosign" | "syft" | "osv-scanner"): string {
  const out = execFileSync("bash", [path.join(ROOT, "infra", "go-tools.sh"), tool], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const binary = out.trim().split("\n").pop() ?? "";
  if (!existsSync(binary))
    throw new Error(`infra/go-tools.sh printed no ${tool} binary (${binary})`);
  return binary;
}

/** Builds (or finds) the Pulumi toolchain and returns its bin directory. */
export function toolchainBin(): string {
  const out = execFileSync("bash", [path.join(ROOT, "infra", "pulumi-toolchain.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const bin = out.trim().split("\n").pop() ?? "";
  if (!existsSync(path.join(bin, "pulumi"))) throw new Error(`no pulumi binary in ${bin}`);
  return bin;
}

function parseExports(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^export ([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match?.[1]) vars[match[1]] = match[2]!.replace(/^['"]|['"]$/g, "");
  }
  return vars;
}

/**
 * Downloads into the wheelhouse folder the binary wheels of every requirement file, and of
 * `requirements` (lines as a requirements file holds them).
 */
export function fillWheelhouse(
  dir: string,
  requirementFiles: string[],
  requirements: readonly string[] = [],
): void {
  mkdirSync(dir, { recursive: true });
  const download = (what: string, args: string[]) => {
    log(`wheelhouse: ${what}`);
    execFileSync(
      "python3",
      ["-m", "pip", "download", "--quiet", "--only-binary=:all:", "--dest", dir, ...args],
      { stdio: ["ignore", "inherit", "inherit"] },
    );
  };
  for (const file of requirementFiles) download(path.relative(ROOT, file), ["-r", file]);
  if (requirements.length > 0) download(requirements.join(" "), [...requirements]);
}

/** The wheelhouse folder the local engine serves (PYFLEET_WHEELHOUSE, else the cache's). */
export function wheelhouseDir(): string {
  return (
    process.env["PYFLEET_WHEELHOUSE"] ?? path.join(homedir(), ".cache", "pyfleet", "wheelhouse")
  );
}

/** Requirement files of the catalogue's pip apps. */
export function pipRequirementFiles(root: string = ROOT): string[] {
  return catalogueApps(root)
    .filter((a) => a.flavour === "pip")
    .flatMap((a) =>
      ["requirements.txt", "requirements-dev.txt"]
        .map((f) => path.join(root, a.path, f))
        .filter((f) => existsSync(f)),
    );
}

/**
 * What the conda apps' builder stages install with pip: the rattler installer's own
 * requirements (images/conda/rattler-requirements.txt) and each environment.yml's `pip:` list.
 */
export function condaBuilderRequirements(root: string = ROOT): string[] {
  const lines = (text: string) =>
    text
      .split("\n")
      .map((l) => l.replace(/#.*/, "").trim())
      .filter((l) => l !== "");
  const out = lines(readFileSync(path.join(root, "images/conda/rattler-requirements.txt"), "utf8"));
  for (const app of catalogueApps(root).filter((a) => a.flavour === "conda")) {
    const file = path.join(root, app.path, "environment.yml");
    if (!existsSync(file)) continue;
    const env = parseYaml(readFileSync(file, "utf8")) as { dependencies?: unknown[] } | null;
    for (const dep of env?.dependencies ?? []) {
      const pip = (dep as { pip?: unknown } | null)?.pip;
      if (Array.isArray(pip)) out.push(...pip.filter((p): p is string => typeof p === "string"));
    }
  }
  return [...new Set(out)];
}

function catalogueApps(root: string): { path: string; flavour: string }[] {
  const catalogue = parseYaml(readFileSync(path.join(root, "apps", "catalogue.yaml"), "utf8")) as {
    apps: Record<string, { path: string; flavour: string }>;
  };
  return Object.values(catalogue.apps);
}

/** Whether this run builds the conda apps (the default; PYFLEET_BUILD_CONDA=0 leaves them out). */
export function buildsConda(): boolean {
  return process.env["PYFLEET_BUILD_CONDA"] !== "0";
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
}

async function waitForHttp(url: string, seconds: number): Promise<void> {
  for (let i = 0; i < seconds * 4; i++) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${seconds}s`);
}

/** Starts (or reuses) everything and returns the environment. */
export async function startLocalEnv(): Promise<LocalEnv> {
  const bin = toolchainBin();
  const infraScript = path.join(ROOT, "infra", "local-infra.sh");
  const wasRunning = spawnStatus(infraScript, ["status"]) === 0;
  log(
    wasRunning
      ? "reusing the running docker engine, registry and BuildKit"
      : "starting docker engine, registry and BuildKit",
  );
  const infra = parseExports(
    execFileSync("bash", [infraScript, "start"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }),
  );
  for (const key of [
    "DOCKER_HOST",
    "PYFLEET_REGISTRY",
    "PYFLEET_BASE_PYTHON",
    "PYFLEET_BASE_DEBIAN",
    "DOCKER_CONFIG",
    "PYFLEET_BUILDER",
  ]) {
    if (!infra[key]) throw new Error(`infra/local-infra.sh start did not export ${key}`);
  }

  const wheelhouse = wheelhouseDir();
  const conda = buildsConda();
  fillWheelhouse(wheelhouse, pipRequirementFiles(), conda ? condaBuilderRequirements() : []);
  // A fixed port: the URL is a build argument, and a new one each run would rebuild every image.
  const port = Number(process.env["PYFLEET_WHEELHOUSE_PORT"] ?? "5081");
  const wheelhouseUrl = `http://127.0.0.1:${port}/`;
  let server: ChildProcess | undefined;
  if (!(await answers(wheelhouseUrl))) {
    server = spawn(
      "python3",
      ["-m", "http.server", "--bind", "127.0.0.1", "--directory", wheelhouse, String(port)],
      { stdio: "ignore" },
    );
    await waitForHttp(wheelhouseUrl, 20);
  } else {
    log(`wheelhouse: reusing the server on ${wheelhouseUrl}`);
  }

  // The conda channel, built once into its cache (minutes cold), served on a fixed port for
  // the same reason as the wheelhouse.
  const channelScript = path.join(ROOT, "infra", "conda-channel", "serve.sh");
  const channelWasServing = conda && spawnStatus(channelScript, ["url"]) === 0;
  let condaChannelUrl: string | undefined;
  if (conda) {
    log(
      channelWasServing ? "conda channel: reusing the running server" : "conda channel: starting",
    );
    condaChannelUrl = execFileSync("bash", [channelScript, "start"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    })
      .trim()
      .split("\n")
      .pop();
    if (!condaChannelUrl?.startsWith("http://127.0.0.1:")) {
      throw new Error(`infra/conda-channel/serve.sh start printed no URL (${condaChannelUrl})`);
    }
  } else {
    log("conda channel: not started (PYFLEET_BUILD_CONDA=0 leaves the conda apps out)");
  }

  const env: Record<string, string> = {
    PATH: `${bin}:${process.env["PATH"] ?? ""}`,
    PYFLEET_PULUMI_BIN: bin,
    [CRANE_VARIABLE]: craneBinary(),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    DOCKER_HOST: infra["DOCKER_HOST"]!,
    DOCKER_CONFIG: infra["DOCKER_CONFIG"]!,
  };
  return {
    env,
    registry: infra["PYFLEET_REGISTRY"]!,
    registryName: infra["PYFLEET_REGISTRY"]!.replace(/^127\.0\.0\.1:/, "localhost:"),
    basePython: infra["PYFLEET_BASE_PYTHON"]!,
    baseDebian: infra["PYFLEET_BASE_DEBIAN"]!,
    builder: infra["PYFLEET_BUILDER"]!,
    docker: infra["PYFLEET_DOCKER"] ?? "/usr/bin/docker",
    wheelhouseUrl,
    ...(condaChannelUrl !== undefined ? { condaChannelUrl } : {}),
    startedInfra: !wasRunning,
    stop(options) {
      if (server?.pid !== undefined) server.kill("SIGTERM");
      if (conda && !channelWasServing) spawnStatus(channelScript, ["stop"]);
      if (!wasRunning && !(options?.keepInfra ?? false)) {
        log("stopping what this run started");
        spawnStatus(infraScript, ["stop"]);
      }
    },
  };
}

/** An image's compressed size as the local registry stores it: its layers plus its config. */
export async function imageBytes(registry: string, name: string, tag: string): Promise<number> {
  const response = await fetch(`http://${registry}/v2/${name}/manifests/${tag}`, {
    headers: {
      Accept:
        "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
    },
  });
  if (!response.ok)
    throw new Error(`${registry}/${name}:${tag}: the registry answers ${response.status}`);
  const manifest = (await response.json()) as {
    layers?: { size: number }[];
    config?: { size: number };
  };
  return (manifest.layers ?? []).reduce((sum, l) => sum + l.size, 0) + (manifest.config?.size ?? 0);
}

/**
 * An image's unpacked size, as `docker images` shows it (the unit of most published
 * comparisons): pulled from the registry into the local engine, then inspected.
 */
export function unpackedBytes(docker: string, env: NodeJS.ProcessEnv, ref: string): number {
  execFileSync(docker, ["pull", "--quiet", ref], { env, stdio: "ignore" });
  return Number(
    execFileSync(docker, ["image", "inspect", "--format", "{{.Size}}", ref], {
      env,
      encoding: "utf8",
    }).trim(),
  );
}

/** Exit status of `bash SCRIPT ARGS...` run quietly (with `env`, else this process's). */
export function spawnStatus(script: string, args: string[], env?: NodeJS.ProcessEnv): number {
  try {
    execFileSync("bash", [script, ...args], { stdio: "ignore", ...(env ? { env } : {}) });
    return 0;
  } catch (error) {
    return (error as { status?: number }).status ?? 1;
  }
}

/**
 * Writes a stack config file: the committed `Pulumi.<stack>.yaml` with local overrides on top
 * (registry, base images, builder, wheelhouse, render folder). The committed file is untouched.
 */
export function writeOverlayConfig(
  stack: string,
  file: string,
  overrides: Record<string, unknown>,
  root: string = ROOT,
  remove: readonly string[] = [],
): void {
  const doc = parseYaml(readFileSync(path.join(root, `Pulumi.${stack}.yaml`), "utf8")) as {
    encryptionsalt?: string;
    config?: Record<string, unknown>;
  };
  const config: Record<string, unknown> = { ...(doc.config ?? {}) };
  for (const key of remove) delete config[key];
  for (const [key, value] of Object.entries(overrides)) {
    const current = config[key];
    config[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : value;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(
    file,
    stringify({ ...(doc.encryptionsalt ? { encryptionsalt: doc.encryptionsalt } : {}), config }),
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function deepMerge(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = isObject(cur) && isObject(v) ? deepMerge(cur, v) : v;
  }
  return out;
}

/** The overrides that point a stack at the local environment. */
export function localOverrides(local: LocalEnv, renderDir: string): Record<string, unknown> {
  return {
    "pyfleet:registry": `${local.registryName}/pyfleet`,
    "pyfleet:renderDir": renderDir,
    "pyfleet:build": {
      builder: local.builder,
      network: "host",
      platforms: ["linux/amd64"],
      baseImages: { python: local.basePython, condaRuntime: local.baseDebian },
      pipFindLinks: local.wheelhouseUrl,
      pipNoIndex: true,
      builderPackages: [],
      // The local channel has no micromamba: the rattler installer solves against it.
      ...(local.condaChannelUrl !== undefined
        ? { condaChannel: local.condaChannelUrl, condaInstaller: "rattler" }
        : {}),
    },
  };
}

/**
 * Writes a stack's local settings file (`Pulumi.<stack>.local.yaml`, gitignored), which every
 * command reads on top of the committed stack file: the quick start's settings become what
 * `preview`, `up`, `render`, `promote` and `validate` use, without touching tracked files.
 */
export function writeLocalSettings(
  stack: string,
  settings: Record<string, unknown>,
  root: string = ROOT,
): string {
  const file = path.join(root, localSettingsFile(stack));
  writeFileSync(
    file,
    "# The local engine's settings for this stack, written by the quick start. Every command\n" +
      "# (preview, up, render, promote, validate) reads them on top of the committed stack file.\n" +
      "# Not committed: delete the file to use the committed settings alone.\n" +
      stringify({ config: settings }),
  );
  return file;
}

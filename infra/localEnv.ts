/**
 * The local build environment pyfleet's quick start and end-to-end harness run on, all on
 * loopback: the Pulumi toolchain (built from the Go module proxy when missing), Debian's
 * dockerd, a registry and a BuildKit daemon with debootstrap base images
 * (infra/local-infra.sh), and a wheelhouse of the pip apps' dependencies served over HTTP so
 * image builds need no package index.
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

/** Downloads the binary wheels every pip app needs into the wheelhouse folder. */
export function fillWheelhouse(dir: string, requirementFiles: string[]): void {
  mkdirSync(dir, { recursive: true });
  for (const file of requirementFiles) {
    log(`wheelhouse: ${path.relative(ROOT, file)}`);
    execFileSync(
      "python3",
      ["-m", "pip", "download", "--quiet", "--only-binary=:all:", "--dest", dir, "-r", file],
      { stdio: ["ignore", "inherit", "inherit"] },
    );
  }
}

/** Requirement files of the catalogue's pip apps. */
export function pipRequirementFiles(root: string = ROOT): string[] {
  const catalogue = parseYaml(readFileSync(path.join(root, "apps", "catalogue.yaml"), "utf8")) as {
    apps: Record<string, { path: string; flavour: string }>;
  };
  return Object.values(catalogue.apps)
    .filter((a) => a.flavour === "pip")
    .flatMap((a) =>
      ["requirements.txt", "requirements-dev.txt"]
        .map((f) => path.join(root, a.path, f))
        .filter((f) => existsSync(f)),
    );
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

  const wheelhouse = path.join(
    process.env["PYFLEET_WHEELHOUSE"] ?? path.join(homedir(), ".cache", "pyfleet", "wheelhouse"),
  );
  fillWheelhouse(wheelhouse, pipRequirementFiles());
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
    startedInfra: !wasRunning,
    stop(options) {
      if (server?.pid !== undefined) server.kill("SIGTERM");
      if (!wasRunning && !(options?.keepInfra ?? false)) {
        log("stopping what this run started");
        spawnStatus(infraScript, ["stop"]);
      }
    },
  };
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

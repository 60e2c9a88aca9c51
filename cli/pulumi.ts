/**
 * Runs pyfleet through the Pulumi Automation API with the program in this process:
 *   npm run pulumi -- <preview|up|destroy|refresh|outputs> <stack> [--diff] [--yes] [--json]
 *                     [--refresh]
 *                     [--policy-pack <dir>] [--policy-pack-config <file>] [--target <urn>]...
 *                     [--config-file <file>]
 *
 * The Automation API's inline host speaks the language-host protocol itself, so only the
 * Pulumi CLI and the provider plugins are needed (no separate Node.js language host). Without
 * PULUMI_BACKEND_URL the state goes to `.pulumi-state/` in the repo (a file backend) and
 * secrets use the passphrase provider with the local-only passphrase below.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import {
  CommandError,
  LocalWorkspace,
  PulumiCommand,
  StackNotFoundError,
  type Stack,
} from "@pulumi/pulumi/automation";
import { KUBECTL_VARIABLE } from "../components/cluster";
import { parse as parseYaml } from "yaml";
import { CRANE_VARIABLE } from "../components/crane";
import { TOOL_VARIABLES } from "../components/supplyChain";
import { LOCAL_PASSPHRASE } from "../infra/localEnv";
import type { AppOutput } from "../model/promotion";
import { offlineSettings } from "../stacks/offline";
import { rebuildLines, rebuildsOf } from "./rebuilds";
import { useNativeStackTraces } from "./stackTraces";

const ROOT = path.resolve(__dirname, "..");
const OPERATIONS = ["preview", "up", "destroy", "refresh", "outputs"] as const;
type Operation = (typeof OPERATIONS)[number];

interface Options {
  operation: Operation;
  stack: string;
  diff: boolean;
  yes: boolean;
  json: boolean;
  /** preview and up: refresh the state from the cluster and registry first. */
  refresh: boolean;
  policyPacks: string[];
  policyPackConfigs: string[];
  targets: string[];
  configFile?: string;
}

function usageError(message: string): Error {
  const error = new Error(message);
  error.name = "UsageError";
  return error;
}

function parseArgs(argv: string[]): Options {
  const args = [...argv];
  const positional: string[] = [];
  const flags: Omit<Options, "operation" | "stack"> = {
    diff: false,
    yes: false,
    json: false,
    refresh: false,
    policyPacks: [],
    policyPackConfigs: [],
    targets: [],
  };
  while (args.length > 0) {
    const arg = args.shift()!;
    if (arg === "--diff") flags.diff = true;
    else if (arg === "--yes" || arg === "-y") flags.yes = true;
    else if (arg === "--json") flags.json = true;
    else if (arg === "--refresh") flags.refresh = true;
    else if (arg === "--policy-pack") flags.policyPacks.push(path.resolve(args.shift() ?? ""));
    else if (arg === "--policy-pack-config") {
      flags.policyPackConfigs.push(path.resolve(args.shift() ?? ""));
    } else if (arg === "--target") flags.targets.push(args.shift() ?? "");
    else if (arg === "--config-file") flags.configFile = path.resolve(args.shift() ?? "");
    else if (arg.startsWith("-")) throw usageError(`unknown option ${arg}`);
    else positional.push(arg);
  }
  const [operation, stack] = positional as [Operation | undefined, string | undefined];
  if (!operation || !OPERATIONS.includes(operation) || !stack || positional.length > 2) {
    throw usageError(
      `usage: npm run pulumi -- <${OPERATIONS.join("|")}> <stack> [--diff] [--yes] [--json] [--refresh] ` +
        "[--policy-pack <dir>] [--policy-pack-config <file>] [--target <urn>] [--config-file <file>]",
    );
  }
  return { operation, stack, ...flags };
}

/** Finds the Pulumi CLI: PULUMI_HOME-style override, the built toolchain, or PATH. */
function pulumiBin(): string | undefined {
  const explicit = process.env["PYFLEET_PULUMI_BIN"];
  if (explicit) return explicit;
  const script = path.join(ROOT, "infra", "pulumi-toolchain.sh");
  try {
    const out = execFileSync("bash", [script, "--print-versions"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    const bin = /^TOOLCHAIN_BIN=(.+)$/m.exec(out)?.[1];
    if (bin && existsSync(path.join(bin, "pulumi"))) return bin;
  } catch {
    // Not built here: fall back to a pulumi on PATH.
  }
  return undefined;
}

async function main(argv: string[]): Promise<number> {
  const options = parseArgs(argv);
  // The supply chain's tools for the program, and for the offline checks that run it first.
  Object.assign(process.env, supplyChainEnv());
  if (options.operation === "preview" || options.operation === "up") {
    // The same offline checks as `npm run validate`, before the engine starts anything.
    const code = runValidate(options.stack, options.configFile);
    if (code !== 0) return code;
  }
  const bin = pulumiBin();
  const env: Record<string, string> = {
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION:
      process.env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] ?? (bin ? "true" : "false"),
  };
  // infra/bin holds the analyzer shim that runs Node.js policy packs without a language host.
  const shims = path.join(ROOT, "infra", "bin");
  env["PATH"] = [bin, shims, process.env["PATH"] ?? ""].filter(Boolean).join(":");
  if (!process.env["PULUMI_BACKEND_URL"] && !process.env["PULUMI_ACCESS_TOKEN"]) {
    const state = path.join(ROOT, ".pulumi-state");
    mkdirSync(state, { recursive: true });
    env["PULUMI_BACKEND_URL"] = `file://${state}`;
  }
  // Every local state folder of the repo uses the quick start's passphrase unless one is given.
  const backend = env["PULUMI_BACKEND_URL"] ?? process.env["PULUMI_BACKEND_URL"] ?? "";
  if (
    backend.startsWith(`file://${path.join(ROOT, ".pulumi-state")}`) &&
    !process.env["PULUMI_CONFIG_PASSPHRASE"] &&
    !process.env["PULUMI_CONFIG_PASSPHRASE_FILE"]
  ) {
    env["PULUMI_CONFIG_PASSPHRASE"] = LOCAL_PASSPHRASE;
  }
  Object.assign(env, dockerEnv(options.stack, options.configFile), kubectlEnv(), craneEnv());
  for (const [key, value] of Object.entries(env)) process.env[key] = value;

  const pulumiCommand = await PulumiCommand.get({
    ...(bin ? { root: path.dirname(bin) } : {}),
    skipVersionCheck: true,
  });
  // Before the program runs: Pulumi's per-promise stack traces are cheap only natively.
  useNativeStackTraces();
  // The program is the module `pulumi up` runs: Pulumi.yaml's `main`, else index.ts.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const program = require(programEntry(ROOT)) as () => Promise<Record<string, unknown>>;
  const workspace = { workDir: ROOT, pulumiCommand, envVars: env };
  const args = { stackName: options.stack, projectName: "pyfleet", program };
  // Reading a stack never creates it: a missing one is an error that says how to make it.
  const stack: Stack =
    options.operation === "outputs"
      ? await LocalWorkspace.selectStack(args, workspace).catch((error: unknown) => {
          throw error instanceof StackNotFoundError ? new MissingStack(options.stack) : error;
        })
      : await LocalWorkspace.createOrSelectStack(args, workspace);
  const onOutput = (out: string) => process.stdout.write(out);
  const common = {
    onOutput,
    ...(options.policyPacks.length > 0 ? { policyPacks: options.policyPacks } : {}),
    ...(options.policyPackConfigs.length > 0
      ? { policyPackConfigs: options.policyPackConfigs }
      : {}),
    ...(options.targets.length > 0 ? { target: options.targets } : {}),
    ...(options.configFile ? { configFile: options.configFile } : {}),
    ...(options.refresh ? { refresh: true } : {}),
  };
  switch (options.operation) {
    case "preview": {
      // Which images rebuild and why, from the build records the last up stored.
      const rebuilds = await imageRebuilds(stack, options);
      if (!options.json) {
        const lines = rebuildLines(rebuilds);
        if (lines.length > 0) process.stdout.write(`${lines.join("\n")}\n\n`);
      }
      if (options.json) {
        // The same shape as `pulumi preview --json`, built from the engine's step events; the
        // human-readable progress goes to stderr.
        const steps: PreviewStep[] = [];
        const result = await stack.preview({
          ...common,
          onOutput: (out: string) => process.stderr.write(out),
          onEvent: (event) => {
            const meta = event.resourcePreEvent?.metadata;
            if (!meta) return;
            steps.push({
              op: meta.op,
              urn: meta.urn,
              type: meta.type,
              ...(meta.old
                ? { oldState: { inputs: meta.old.inputs, outputs: meta.old.outputs } }
                : {}),
              ...(meta.new ? { newState: { inputs: meta.new.inputs } } : {}),
              ...(meta.diffs ? { diffReasons: meta.diffs } : {}),
            });
          },
        });
        process.stdout.write(
          `${JSON.stringify({ steps, changeSummary: result.changeSummary, rebuilds }, null, 2)}\n`,
        );
        return 0;
      }
      const result = await stack.preview({ ...common, diff: options.diff });
      process.stdout.write(`\nchanges: ${JSON.stringify(result.changeSummary)}\n`);
      return 0;
    }
    case "up": {
      if (!options.yes) {
        process.stderr.write(
          "refusing to update without --yes (run preview first to see the changes)\n",
        );
        return 2;
      }
      const result = await stack.up({ ...common, diff: options.diff });
      process.stdout.write(`\n${JSON.stringify(summarise(result.outputs), null, 2)}\n`);
      return 0;
    }
    case "destroy": {
      if (!options.yes) {
        process.stderr.write("refusing to destroy without --yes\n");
        return 2;
      }
      await stack.destroy({
        onOutput,
        ...(options.configFile ? { configFile: options.configFile } : {}),
      });
      return 0;
    }
    case "refresh":
      await stack.refresh({
        onOutput,
        ...(options.configFile ? { configFile: options.configFile } : {}),
      });
      return 0;
    case "outputs":
      process.stdout.write(`${JSON.stringify(summarise(await stack.outputs()), null, 2)}\n`);
      return 0;
  }
}

/**
 * The rebuild reasons per app: the records this tree would build against those in the stack's
 * outputs. {} when they cannot be known (settings that do not resolve are the validate step's
 * to report).
 */
async function imageRebuilds(stack: Stack, options: Options): Promise<Record<string, string[]>> {
  let settings;
  try {
    settings = offlineSettings(
      options.stack,
      ROOT,
      options.configFile ? { configFile: options.configFile } : {},
    );
  } catch {
    return {};
  }
  const outputs: Record<string, { value: unknown }> = await stack.outputs().catch(() => ({}));
  const previous = outputs["apps"]?.value as Record<string, AppOutput> | undefined;
  return rebuildsOf(settings, ROOT, previous);
}

/** The program's entry: Pulumi.yaml's `main` (a user's program around pyfleet's), or index. */
export function programEntry(root: string): string {
  let main: unknown;
  try {
    main = (parseYaml(readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { main?: unknown })
      ?.main;
  } catch {
    main = undefined;
  }
  return path.resolve(root, typeof main === "string" && main !== "" ? main : "index");
}

/** One step of a preview, as `pulumi preview --json` reports it. */
interface PreviewStep {
  op: string;
  urn: string;
  type: string;
  oldState?: { inputs: Record<string, unknown>; outputs: Record<string, unknown> };
  newState?: { inputs: Record<string, unknown> };
  diffReasons?: string[];
}

function summarise(
  outputs: Record<string, { value: unknown; secret: boolean }>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, output] of Object.entries(outputs))
    out[key] = output.secret ? "[secret]" : output.value;
  return out;
}

/** A stack that does not exist yet; the exit code tells `promote` which case it is. */
class MissingStack extends Error {
  constructor(stack: string) {
    super(`stack "${stack}" does not exist yet`);
    this.name = "MissingStack";
  }
}

/** Exit code of `outputs` for a stack that does not exist. */
const MISSING_STACK_EXIT = 3;

/**
 * The Docker engine and client config the stack's settings name (`build.dockerHost`,
 * `build.dockerConfig`), as the environment the build provider reads: every run of the stack
 * talks to the same engine and builder, whatever the caller's shell holds. Empty when the
 * settings name none (or do not resolve: the command itself reports that).
 */
function dockerEnv(stack: string, configFile: string | undefined): Record<string, string> {
  let build;
  try {
    build = offlineSettings(stack, ROOT, configFile ? { configFile } : {}).build;
  } catch {
    return {};
  }
  return {
    ...(build.dockerHost !== undefined ? { DOCKER_HOST: build.dockerHost } : {}),
    ...(build.dockerConfig !== undefined ? { DOCKER_CONFIG: build.dockerConfig } : {}),
  };
}

/**
 * The kubectl the Deployments' rollout diagnosis asks the cluster with: PYFLEET_KUBECTL, a
 * kubectl on PATH, or else the one built with the local cluster (infra/cluster.sh), if any.
 */
function kubectlEnv(): Record<string, string> {
  if (process.env[KUBECTL_VARIABLE]) return {};
  const onPath = spawnSync("sh", ["-c", "command -v kubectl"], { stdio: "ignore" });
  if (onPath.status === 0) return {};
  try {
    const bin = execFileSync(
      "bash",
      [path.join(ROOT, "infra", "cluster", "build.sh"), "--bin", "kubernetes"],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      },
    ).trim();
    const kubectl = path.join(bin, "kubectl");
    return existsSync(kubectl) ? { [KUBECTL_VARIABLE]: kubectl } : {};
  } catch {
    return {};
  }
}

/**
 * The crane registry-side tags run (promotion): PYFLEET_CRANE, a crane on PATH, or else the one
 * infra/crane.sh builds from the Go module proxy (once, into the tools cache).
 */
function craneEnv(): Record<string, string> {
  if (process.env[CRANE_VARIABLE]) return {};
  if (spawnSync("sh", ["-c", "command -v crane"], { stdio: "ignore" }).status === 0) return {};
  try {
    const out = execFileSync("bash", [path.join(ROOT, "infra", "crane.sh")], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
    const crane = out.trim().split("\n").pop() ?? "";
    return existsSync(crane) ? { [CRANE_VARIABLE]: crane } : {};
  } catch {
    // No Go here: a promotion then says crane is missing, by name.
    return {};
  }
}

/**
 * The supply chain's tools (cosign, syft, osv-scanner) where infra/go-tools.sh has built them
 * and the environment names none. None is built here: a stack that signs or
 * verifies without them says which to build.
 */
function supplyChainEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  let listing = "";
  try {
    listing = execFileSync("bash", [path.join(ROOT, "infra", "go-tools.sh"), "--list"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
  } catch {
    return env;
  }
  for (const line of listing.split("\n")) {
    const [tool, , folder] = line.split("\t");
    if (tool === undefined || folder === undefined || !(tool in TOOL_VARIABLES)) continue;
    const variable = TOOL_VARIABLES[tool as keyof typeof TOOL_VARIABLES];
    const binary = path.join(folder, tool);
    if (!process.env[variable] && existsSync(binary)) env[variable] = binary;
  }
  return env;
}

function runValidate(stack: string, configFile: string | undefined): number {
  const result = spawnSync(
    process.execPath,
    [
      "-r",
      "ts-node/register/transpile-only",
      path.join(ROOT, "cli", "validate.ts"),
      stack,
      ...(configFile ? ["--config-file", configFile] : []),
    ],
    { stdio: "inherit", cwd: ROOT },
  );
  return result.status ?? 1;
}

/**
 * What to print for a failed run. The engine has already streamed its diagnostics (a RunError
 * of the program included, once and without a stack trace), so a failed command adds only the
 * engine's own error lines, each once; a bug elsewhere keeps its stack trace.
 */
function failureText(error: unknown): string {
  if (error instanceof CommandError) {
    const stderr =
      (error as unknown as { commandResult?: { stderr?: string } }).commandResult?.stderr ?? "";
    const lines = [
      ...new Set(
        stderr
          .split("\n")
          .map((l) => l.trimEnd())
          .filter((l) => l !== ""),
      ),
    ];
    return lines.length > 0 ? lines.join("\n") : "the Pulumi command failed; see its output above";
  }
  if (error instanceof MissingStack) return error.message;
  if (error instanceof Error && error.name === "UsageError") return error.message;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${failureText(error)}\n`);
    process.exitCode = error instanceof MissingStack ? MISSING_STACK_EXIT : 1;
  },
);

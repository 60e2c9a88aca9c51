/**
 * Runs the program the way users run it (`npm run pulumi -- ...`, the Automation API in
 * cli/pulumi.ts) on a copy of the project, logging every command's output to one file.
 */
import { appendFileSync, existsSync } from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import type { AppOut, CommandRun, PlanStep } from "../checks/observed";
import type { ResourceChanges } from "../checks/upgrade";
import type { Processes } from "./processes";

/** The pretty-printed JSON document in a command's stdout (from a line "{" to a line "}"). */
export function jsonBlock(stdout: string): string {
  const lines = stdout.split("\n");
  const start = lines.indexOf("{");
  const end = lines.indexOf("}", start);
  return start >= 0 && end > start ? lines.slice(start, end + 1).join("\n") : "{}";
}

/** The steps and change counts of a `preview --json`. */
export function planOf(run: CommandRun): { steps: PlanStep[]; changes: ResourceChanges } {
  const doc = JSON.parse(jsonBlock(run.stdout)) as {
    steps?: PlanStep[];
    changeSummary?: ResourceChanges;
  };
  return { steps: doc.steps ?? [], changes: doc.changeSummary ?? {} };
}

/**
 * The command runner of a project version: `cli/pulumi.ts`, or `scripts/pulumi.ts` in the
 * versions before the commands moved to cli/.
 */
export function runnerOf(project: string): string {
  const entry = ["cli/pulumi.ts", "scripts/pulumi.ts"]
    .map((p) => path.join(project, p))
    .find((p) => existsSync(p));
  if (!entry) throw new Error(`no cli/pulumi.ts or scripts/pulumi.ts in ${project}`);
  return entry;
}

/** Where and how to run Pulumi for one project copy and backend. */
export interface PulumiOptions {
  /** The project copy. */
  project: string;
  /** Environment: the local engine's, the backend URL and the passphrase. */
  env: NodeJS.ProcessEnv;
  /** The toolchain's bin folder (the Pulumi CLI). */
  bin: string;
  /** File every command's output is appended to. */
  log: string;
  /** Process tracker. */
  processes: Processes;
}

/** Pulumi commands on one project copy. */
export class Pulumi {
  constructor(private readonly options: PulumiOptions) {}

  /** `npm run pulumi -- <args>` in the project copy, stopped after `timeoutSeconds`. */
  async run(label: string, args: string[], timeoutSeconds = 1800): Promise<CommandRun> {
    const { project, env, log, processes } = this.options;
    const result = await processes.run(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", runnerOf(project), ...args],
      { cwd: project, env, timeoutSeconds },
    );
    const output = `${result.stdout}\n${result.stderr}`;
    appendFileSync(
      log,
      `\n===== ${label}: pulumi ${args.join(" ")} (exit ${result.status})\n${output}`,
    );
    return { status: result.status, stdout: result.stdout, output, seconds: result.seconds };
  }

  /** `up STACK --yes --config-file FILE`, as `run` runs it. */
  up(
    label: string,
    stack: string,
    configFile: string,
    timeoutSeconds?: number,
  ): Promise<CommandRun> {
    return this.run(label, ["up", stack, "--yes", "--config-file", configFile], timeoutSeconds);
  }

  /** The `apps` output of a stack ({} when it has none). */
  async apps(stack: string, configFile: string): Promise<Record<string, AppOut>> {
    const run = await this.run(`outputs ${stack}`, ["outputs", stack, "--config-file", configFile]);
    return (JSON.parse(jsonBlock(run.stdout)) as { apps?: Record<string, AppOut> }).apps ?? {};
  }

  /** `pulumi stack export` of a stack ("" when it fails). */
  async exportState(stack: string): Promise<string> {
    const { project, env, bin, processes } = this.options;
    const result = await processes.run(
      path.join(bin, "pulumi"),
      ["stack", "export", "--stack", stack, "--cwd", project],
      { env },
    );
    return result.status === 0 ? result.stdout : "";
  }

  /** The change counts of the stack's last update, from the Automation API's history. */
  async lastUpdate(stack: string): Promise<ResourceChanges | undefined> {
    const { project, env, bin } = this.options;
    const envVars = Object.fromEntries(
      Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined),
    );
    const pulumiCommand = await PulumiCommand.get({
      root: path.dirname(bin),
      skipVersionCheck: true,
    });
    const selected = await LocalWorkspace.selectStack(
      { stackName: stack, workDir: project },
      { pulumiCommand, envVars },
    );
    const [last] = await selected.history(1);
    return last?.kind === "update" ? last.resourceChanges : undefined;
  }
}

/**
 * Upgrading: the previous version of the program (a commit of this repository) updates dev
 * and staging on a file backend of their own; then this tree, put in the very same folder as
 * a user updates a checkout in place, previews and updates the same stacks on that state.
 * Renaming or re-parenting a resource without an alias shows up here as a replacement or a
 * delete, which the check refuses.
 *
 * Both sides build with the same revision (PYFLEET_GIT_SHA), without git metadata and with
 * the same file times and modes, so the program is the only difference between them: the images' inputs are equal, BuildKit's cache
 * serves the second build, and an unchanged program makes the second update a no-op.
 */
import { mkdirSync, rmSync } from "node:fs";
import * as path from "node:path";
import { ROOT, writeOverlayConfig } from "../../../infra/localEnv";
import { previousStateMade, upgradeReplacesNothing, type CommandRun } from "../checks";
import { CONDA_APP, type Context, type Scenario } from "../lib/context";
import {
  commitTime,
  copyProject,
  exportCommit,
  provideDependencies,
  resolveCommit,
  settleFileMetadata,
} from "../lib/project";
import { planOf, Pulumi } from "../lib/pulumi";

/** The last landed version before this one; PYFLEET_E2E_UPGRADE_FROM picks another commit. */
export const PREVIOUS_VERSION = "e63c7c3";

const STACKS = ["dev", "staging"] as const;

/** Writes each stack's config from the tree now in `project`, as its own version reads it. */
function writeConfigs(ctx: Context, dir: string, project: string): Record<string, string> {
  // Under pyfleet/ so the policy pack's allowedRegistries admit it; apart from the main run's.
  const registry = `${ctx.local.registryName}/pyfleet/upgrade`;
  const pipOnly = { "pyfleet:apps": { [CONDA_APP]: { enabled: false } } };
  const files: Record<string, string> = {};
  for (const stack of STACKS) {
    files[stack] = path.join(dir, "config", `${stack}.yaml`);
    const renderDir = path.join(project, "rendered", stack);
    const overrides =
      stack === "dev"
        ? { ...withoutConda(ctx.overrides), "pyfleet:renderDir": renderDir }
        : { "pyfleet:renderDir": renderDir };
    writeOverlayConfig(
      stack,
      files[stack],
      { ...overrides, "pyfleet:registry": registry, ...pipOnly },
      project,
    );
  }
  return files;
}

/**
 * The overrides without the conda channel and installer: the previous version does not know
 * those settings, and the upgrade leaves the conda app out anyway.
 */
function withoutConda(overrides: Record<string, unknown>): Record<string, unknown> {
  const build = { ...(overrides["pyfleet:build"] as Record<string, unknown> | undefined) };
  delete build["condaChannel"];
  delete build["condaInstaller"];
  return { ...overrides, "pyfleet:build": build };
}

function resourceCount(state: string): number {
  try {
    return (
      (JSON.parse(state) as { deployment?: { resources?: unknown[] } }).deployment?.resources
        ?.length ?? 0
    );
  } catch {
    return 0;
  }
}

/** Makes state with the previous version, then updates it with this tree. */
export const upgrade: Scenario = {
  name: "upgrade",
  async run(ctx) {
    const from = ctx.env["PYFLEET_E2E_UPGRADE_FROM"] ?? PREVIOUS_VERSION;
    const dir = path.join(ctx.work, "upgrade");
    const project = path.join(dir, "project");
    const state = path.join(dir, "state");
    const bin = ctx.env["PYFLEET_PULUMI_BIN"] ?? "";
    const log = path.join(ctx.reports, "pulumi.log");

    let sha: string | undefined;
    const runs: { stack: string; run: CommandRun }[] = [];
    let commit: { sha: string } | { error: string };
    try {
      sha = resolveCommit(ROOT, from);
      commit = { sha };
    } catch (error) {
      commit = { error: error instanceof Error ? error.message : String(error) };
    }
    const short = sha?.slice(0, 7) ?? from;
    const env: NodeJS.ProcessEnv = {
      ...ctx.env,
      PULUMI_BACKEND_URL: `file://${state}`,
      ...(sha ? { PYFLEET_GIT_SHA: sha } : {}),
    };
    const pulumi = new Pulumi({ project, env, bin, log, processes: ctx.processes });
    if (sha) {
      exportCommit(ROOT, sha, project);
      settleFileMetadata(project, commitTime(ROOT, sha));
      ctx.recorder.figure("upgrade_dependencies", provideDependencies(ROOT, project));
      rmSync(state, { recursive: true, force: true });
      mkdirSync(state, { recursive: true });
      const configs = writeConfigs(ctx, dir, project);
      let retried = 0;
      for (const stack of STACKS) {
        let run = await pulumi.up(`upgrade: ${short} up ${stack}`, stack, configs[stack]!);
        // The previous version's hand-written registry client has no retries, and the local
        // registry answers a read that races a rewrite of the same manifest (two tags of one
        // digest pushed at once) with HTTP 500 "invalid checksum digest format". Such an up
        // is run once more; any other failure, or a second one, stands.
        if (run.status !== 0 && /: HTTP 5\d\d\b/.test(run.output)) {
          retried++;
          run = await pulumi.up(`upgrade: ${short} up ${stack}, again`, stack, configs[stack]!);
        }
        runs.push({ stack, run });
        if (run.status !== 0) break;
      }
      ctx.recorder.figure("upgrade_previous_up_retried", retried);
      ctx.recorder.figure(
        "upgrade_previous_up_seconds",
        Number(runs.reduce((s, r) => s + r.run.seconds, 0).toFixed(1)),
      );
    }
    const made = ctx.recorder.check(
      previousStateMade,
      `upgrade: the previous version (${short}) updates ${STACKS.join(" and ")} on a file backend`,
      { commit, runs },
    );
    if (!made) return;

    const before: Record<string, number> = {};
    for (const stack of STACKS) before[stack] = resourceCount(await pulumi.exportState(stack));
    rmSync(project, { recursive: true, force: true });
    copyProject(ROOT, project, { withGit: false });
    if (sha) settleFileMetadata(project, commitTime(ROOT, sha));
    const configs = writeConfigs(ctx, dir, project);
    let seconds = 0;
    for (const stack of STACKS) {
      const plan = await pulumi.run(`upgrade: preview ${stack}`, [
        "preview",
        stack,
        "--json",
        "--config-file",
        configs[stack]!,
      ]);
      const planned = plan.status === 0 ? planOf(plan) : { steps: [], changes: {} };
      const up = await pulumi.up(`upgrade: up ${stack}`, stack, configs[stack]!);
      seconds += up.seconds;
      ctx.recorder.check(
        upgradeReplacesNothing,
        `upgrade: this tree's up of ${stack} on ${short}'s state plans and performs no replacement`,
        {
          resourcesBefore: before[stack] ?? 0,
          plan,
          steps: planned.steps,
          planned: planned.changes,
          up,
          performed: up.status === 0 ? await pulumi.lastUpdate(stack) : undefined,
        },
      );
    }
    ctx.recorder.figure("upgrade_up_seconds", Number(seconds.toFixed(1)));
  },
};

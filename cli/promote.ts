/**
 * Promotes the digests one environment runs to the next:
 *   npm run promote -- <staging|prod> [--yes] [--config-file <file>]
 *                      [--policy-pack <dir> --policy-pack-config <file>]
 * Shows, per app, the version, SHA and digest the target runs now and what it will run, and
 * each promotion gate's state (soak, verification, break glass); refuses before anything
 * changes when a guard or gate holds an app back; asks for confirmation unless --yes, then
 * runs `up` of the target stack (which reads the source stack's outputs and deploys exactly
 * those digests).
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { createInterface } from "node:readline/promises";
import type { AppOutput } from "../model/promotion";
import { imageModeOf, offlineSettings } from "../stacks/offline";
import { SettingsError } from "../stacks/problems";
import {
  creatingCommand,
  formatGates,
  formatSupplyChain,
  formatPlan,
  promotionChoices,
  promotionPlan,
} from "./promotionPlan";

const ROOT = path.resolve(__dirname, "..");
const RUNNER = ["-r", "ts-node/register/transpile-only", path.join(ROOT, "cli", "pulumi.ts")];

/** Exit code of the runner's `outputs` for a stack that does not exist (cli/pulumi.ts). */
const MISSING_STACK_EXIT = 3;

/** A user-facing refusal: printed once, without a stack trace. */
class PromotionError extends Error {}

/** The `apps` output of a stack; undefined when the stack does not exist. */
function outputs(stack: string, extra: string[]): Record<string, AppOutput> | undefined {
  const result = spawnSync(process.execPath, [...RUNNER, "outputs", stack, ...extra], {
    encoding: "utf8",
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (result.status === MISSING_STACK_EXIT) return undefined;
  if (result.status !== 0) {
    throw new PromotionError(
      `reading the outputs of stack "${stack}" failed:\n${(result.stderr || result.stdout).trim()}`,
    );
  }
  const out = result.stdout;
  const json = out.slice(out.indexOf("{"), out.lastIndexOf("}") + 1) || "{}";
  return (JSON.parse(json) as { apps?: Record<string, AppOutput> }).apps ?? {};
}

async function main(argv: string[]): Promise<number> {
  const yes = argv.includes("--yes");
  // Options with a value that are passed on to the runner.
  const passOn = ["--config-file", "--policy-pack", "--policy-pack-config"];
  const extra: string[] = [];
  const policy: string[] = [];
  argv.forEach((arg, i) => {
    if (!passOn.includes(arg)) return;
    (arg === "--config-file" ? extra : policy).push(arg, argv[i + 1] ?? "");
  });
  const target = argv.find((a, i) => !a.startsWith("--") && !passOn.includes(argv[i - 1] ?? ""));
  if (target !== "staging" && target !== "prod") {
    process.stderr.write("usage: npm run promote -- <staging|prod> [--yes]\n");
    return 2;
  }
  const settings = offlineSettings(target);
  if (settings.images.mode !== "promote") {
    process.stderr.write(
      `stack ${target} builds its own images (images.mode build); nothing to promote\n`,
    );
    return 2;
  }
  const source = settings.images.fromStack;
  const sourceApps = outputs(source, []);
  if (sourceApps === undefined) {
    throw new PromotionError(
      `cannot promote to ${target}: its source stack "${source}" does not exist yet; create it ` +
        `with: ${creatingCommand(source, imageModeOf(source))}`,
    );
  }
  const choices = promotionChoices(
    settings.apps.map((a) => a.name),
    source,
    sourceApps,
    settings.images,
  );
  // A target that does not exist yet runs nothing: its first promotion creates it.
  const running = Object.entries(outputs(target, extra) ?? {}).filter(
    ([app]) => choices.refusals[app] === undefined,
  );
  const rows = promotionPlan(choices.chosen, Object.fromEntries(running));
  process.stdout.write(`${formatPlan(source, target, rows)}\n`);
  const gates = formatGates(choices.promoted);
  if (gates !== "") process.stdout.write(`${gates}\n`);
  const chain = formatSupplyChain(choices.promoted, sourceApps);
  if (chain !== "") process.stdout.write(`${chain}\n`);
  const refusals = Object.values(choices.refusals);
  if (refusals.length > 0) {
    throw new PromotionError(
      `promotion from ${source} to ${target} refused; nothing was changed:\n` +
        refusals.map((r) => `  - ${r}`).join("\n"),
    );
  }
  if (!rows.some((r) => r.changes)) {
    process.stdout.write(`${target} already runs what ${source} runs.\n`);
  }
  if (!yes) {
    if (!process.stdin.isTTY) {
      process.stderr.write("not a terminal: pass --yes to promote without a prompt\n");
      return 2;
    }
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question(`Promote to ${target}? [y/N] `);
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      process.stdout.write("not promoted\n");
      return 1;
    }
  }
  // --refresh: the state first learns what the cluster really holds (a local cluster restarted
  // since the last promotion holds none of it), then the update recreates what is missing.
  const up = spawnSync(
    process.execPath,
    [...RUNNER, "up", target, "--yes", "--refresh", ...extra, ...policy],
    {
      stdio: "inherit",
      cwd: ROOT,
    },
  );
  // The runner has printed its problems already; only the exit code is passed on.
  return up.status ?? 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const userError = error instanceof SettingsError || error instanceof PromotionError;
    process.stderr.write(
      `${error instanceof Error ? (userError ? error.message : (error.stack ?? error.message)) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);

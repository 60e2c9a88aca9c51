/**
 * Promotes the digests one environment runs to the next:
 *   npm run promote -- <staging|prod> [--yes] [--config-file <file>]
 *                      [--policy-pack <dir> --policy-pack-config <file>]
 * Shows, per app, the version, SHA and digest the target runs now and what it will run, asks
 * for confirmation unless --yes, then runs `up` of the target stack (which reads the source
 * stack's outputs and deploys exactly those digests).
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { createInterface } from "node:readline/promises";
import type { AppOutput } from "../model/promotion";
import { offlineSettings } from "../stacks/offline";
import { formatPlan, promotionPlan } from "./promotionPlan";

const ROOT = path.resolve(__dirname, "..");
const RUNNER = ["-r", "ts-node/register/transpile-only", path.join(ROOT, "cli", "pulumi.ts")];

function outputs(stack: string, extra: string[]): Record<string, AppOutput> {
  const out = execFileSync(process.execPath, [...RUNNER, "outputs", stack, ...extra], {
    encoding: "utf8",
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
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
  const rows = promotionPlan(outputs(source, []), outputs(target, extra));
  process.stdout.write(`${formatPlan(source, target, rows)}\n`);
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
  execFileSync(process.execPath, [...RUNNER, "up", target, "--yes", ...extra, ...policy], {
    stdio: "inherit",
    cwd: ROOT,
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);

/**
 * Renders a stack's Kubernetes manifests, and nothing else:
 *   npm run render -- <stack> [--config-file <file>]
 * No image is built and no engine, Docker daemon or cluster is needed: the program runs on the
 * mock runtime (cli/offlineProgram.ts) with the cluster settings removed, after the same checks
 * as `npm run validate`. Images are referenced by the digests the stacks run now, read from the
 * local state: a build-mode stack's own, a promoting stack's source's; a placeholder digest
 * (with a warning naming the command that deploys the real one) where a stack has none yet.
 * Writes `<renderDir>/manifests.yaml`; Secrets are never written (see the README).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { SettingsError } from "../stacks/problems";
import { imageModeOf, offlineSettings } from "../stacks/offline";
import { checkStack } from "./checks";
import { placeholderSourceApps } from "./offlineProgram";
import { creatingCommand } from "./promotionPlan";
import { stackApps } from "./stackState";

const ROOT = path.resolve(__dirname, "..");
/** Keys whose absence makes the program render instead of deploying. */
const CLUSTER_KEYS = ["pyfleet:kubeconfig", "pyfleet:kubeconfigPath", "pyfleet:kubeContext"];
/** File the manifests go to, inside the stack's render folder. */
export const MANIFESTS_FILE = "manifests.yaml";

function usage(): number {
  process.stderr.write("usage: npm run render -- <stack> [--config-file <file>]\n");
  return 2;
}

async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  let configFile: string | undefined;
  const positional: string[] = [];
  while (args.length > 0) {
    const arg = args.shift()!;
    if (arg === "--config-file") configFile = path.resolve(args.shift() ?? "");
    else if (arg.startsWith("-")) return usage();
    else positional.push(arg);
  }
  const [stack] = positional;
  if (stack === undefined || positional.length !== 1) return usage();
  const fileOptions = configFile ? { configFile } : {};

  let settings;
  try {
    settings = offlineSettings(stack, ROOT, fileOptions);
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
  const warnings: string[] = [];
  const options: Parameters<typeof checkStack>[2] = {
    ...fileOptions,
    overrides: Object.fromEntries(CLUSTER_KEYS.map((k) => [k, undefined])),
  };
  if (settings.images.mode === "promote") {
    const source = settings.images.fromStack;
    const known = stackApps(ROOT, settings.project, source) ?? {};
    const placeholders = placeholderSourceApps(settings);
    const missing = settings.apps.filter((a) => known[a.name] === undefined).map((a) => a.name);
    if (missing.length > 0) {
      warnings.push(
        `${missing.join(", ")}: ${source} runs no image of ${missing.length === 1 ? "it" : "them"} ` +
          `yet, so the manifests reference placeholder digests; deploy to ${source} first for ` +
          `the real ones (${creatingCommand(source, imageModeOf(source))})`,
      );
    }
    options.sourceApps = { ...placeholders, ...known };
  } else {
    const known = stackApps(ROOT, settings.project, stack) ?? {};
    options.imageDigests = Object.fromEntries(
      Object.entries(known).map(([name, app]) => [name, app.digest]),
    );
    const missing = settings.apps.filter((a) => known[a.name] === undefined).map((a) => a.name);
    if (missing.length > 0) {
      warnings.push(
        `${missing.join(", ")}: ${stack} has built no image yet and render never builds, so the ` +
          `manifests reference placeholder digests; build them with: npm run up -- ${stack} --yes`,
      );
    }
  }

  const result = await checkStack(stack, ROOT, options);
  if (result.problems.length > 0 || result.run === undefined) {
    const n = result.problems.length;
    process.stderr.write(
      `stack "${stack}" is invalid (${n} problem${n === 1 ? "" : "s"}); nothing was rendered:\n` +
        result.problems.map((p) => `  - ${p}`).join("\n") +
        "\n",
    );
    return 1;
  }
  const documents = result.run.resources
    .filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:providers:"))
    .filter((r) => r.inputs["kind"] !== undefined && r.inputs["kind"] !== "Secret")
    .map((r) => stringify(r.inputs, { lineWidth: 0 }));
  const cluster = result.run.settings.cluster;
  const dir = path.resolve(
    ROOT,
    cluster.mode === "render" ? cluster.directory : `rendered/${stack}`,
  );
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, MANIFESTS_FILE);
  writeFileSync(file, documents.join("---\n"));
  for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
  process.stdout.write(
    `rendered ${documents.length} objects of stack "${stack}" to ${path.relative(ROOT, file)} (no image built)\n`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);

/**
 * Renders a stack's Kubernetes manifests into rendered/<stack> without touching a cluster:
 *   npm run render -- <stack>
 * Runs `up` with the cluster settings removed, against a separate local state backend
 * (.pulumi-state/render) so the real stack's state is never mixed with render-mode state.
 * Promoting stacks read their source from that backend too: render dev before staging.
 * Secrets are never written to the rendered files (see the README).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import * as path from "node:path";
import { ROOT, writeOverlayConfig } from "../infra/localEnv";

function main(argv: string[]): number {
  const extra = argv.slice(1);
  const stack = argv[0];
  if (!stack || stack.startsWith("-")) {
    process.stderr.write("usage: npm run render -- <stack> [--config-file <overlay>]\n");
    return 2;
  }
  const state = path.join(ROOT, ".pulumi-state", "render");
  mkdirSync(state, { recursive: true });
  const overlay = path.join(state, `Pulumi.${stack}.yaml`);
  writeOverlayConfig(stack, overlay, { "pyfleet:renderDir": `rendered/${stack}` }, ROOT, [
    "pyfleet:kubeconfig",
    "pyfleet:kubeContext",
  ]);
  execFileSync(
    process.execPath,
    [
      "-r",
      "ts-node/register/transpile-only",
      path.join(ROOT, "cli", "pulumi.ts"),
      "up",
      stack,
      "--yes",
      "--config-file",
      overlay,
      ...extra,
    ],
    { stdio: "inherit", cwd: ROOT, env: { ...process.env, PULUMI_BACKEND_URL: `file://${state}` } },
  );
  process.stdout.write(`manifests: ${path.join(ROOT, "rendered", stack)}\n`);
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}

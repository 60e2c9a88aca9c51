import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..", "..");

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** Local settings with two problems, as a user might write them. */
function badLocalSettings(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "pyfleet-errors-"));
  made.push(dir);
  const file = path.join(dir, "local.yaml");
  writeFileSync(
    file,
    "config:\n  pyfleet:registryUsername: ci\n  pyfleet:apps:\n    vectors:\n      metrics: { port: 80, path: /metrics }\n",
  );
  return file;
}

function command(args: string[], local: string) {
  return spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, PYFLEET_LOCAL_SETTINGS: local, PYFLEET_PULUMI_BIN: "/nonexistent" },
  });
}

const EXPECTED =
  'stack "dev" is invalid (2 problems); nothing was created or changed:\n' +
  "  - pyfleet:registryUsername: set without pyfleet:registryPassword, so the credentials would be dropped; set the password too: pulumi config set --secret pyfleet:registryPassword <token> --stack dev (or remove the user for an anonymous registry)\n" +
  "  - apps.vectors.metrics.port: 80 is already the port of the app's Service (http, 80 -> 8000); serve metrics on another port, or on the app port 8000 itself\n";

describe("error output: each problem once, no stack trace, exit 1", { timeout: 120_000 }, () => {
  it("validate", () => {
    const result = command([path.join("cli", "validate.ts"), "dev"], badLocalSettings());
    expect(result.status).toBe(1);
    expect(result.stderr.replace(/^warning: .*\n/gm, "")).toBe(EXPECTED);
  });

  it.each([["preview"], ["up", "--yes"]])("%s checks first and starts nothing", (...op) => {
    const result = command(
      [path.join("cli", "pulumi.ts"), op[0], "dev", ...op.slice(1)],
      badLocalSettings(),
    );
    expect(result.status).toBe(1);
    expect(result.stderr.replace(/^warning: .*\n/gm, "")).toBe(EXPECTED);
    expect(result.stdout).toBe("");
  });

  it("validate passes with a one-line summary", () => {
    const result = command([path.join("cli", "validate.ts"), "staging"], "none");
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /^stack "staging" is valid: 3 apps, \d+ Kubernetes objects, 0 Dockerfiles, \d+ policies checked(; \d+ advisory findings above)?\n$/,
    );
  });
});

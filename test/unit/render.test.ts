import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { stackApps } from "../../cli/stackState";
import { withLocalSettings } from "../../stacks/localSettings";
import { offlineSettings } from "../../stacks/offline";
import { SettingsError } from "../../stacks/problems";

const ROOT = path.resolve(__dirname, "..", "..");
const DIGEST = `sha256:${"ab".repeat(32)}`;

/** A file backend holding one stack whose `apps` output runs `vectors` at DIGEST. */
function backendWith(stack: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "pyfleet-state-"));
  const stacks = path.join(dir, ".pulumi", "stacks", "pyfleet");
  mkdirSync(stacks, { recursive: true });
  const image = `localhost:5000/pyfleet/vectors@${DIGEST}`;
  writeFileSync(
    path.join(stacks, `${stack}.json`),
    JSON.stringify({
      version: 3,
      checkpoint: {
        latest: {
          resources: [
            {
              type: "pulumi:pulumi:Stack",
              outputs: { apps: { vectors: { image, digest: DIGEST, tags: [], namespace: "x" } } },
            },
          ],
        },
      },
    }),
  );
  return dir;
}

function render(stack: string, env: Record<string, string>) {
  return spawnSync(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", path.join(ROOT, "cli", "render.ts"), stack],
    {
      cwd: ROOT,
      encoding: "utf8",
      // No Docker engine and no Pulumi CLI: render must need neither.
      env: {
        ...process.env,
        PATH: path.dirname(process.execPath),
        DOCKER_HOST: "unix:///nonexistent/docker.sock",
        PYFLEET_LOCAL_SETTINGS: "none",
        ...env,
      },
    },
  );
}

describe("npm run render: manifests only", { timeout: 120_000 }, () => {
  it("renders prod without building, without Docker, referencing what staging runs", () => {
    const result = render("prod", { PULUMI_BACKEND_URL: `file://${backendWith("staging")}` });
    expect(result.stderr).not.toMatch(/at .*\.ts:\d+/);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /^rendered \d+ objects of stack "prod" to rendered\/prod\/manifests\.yaml \(no image built\)$/m,
    );
    expect(result.stderr).toContain(
      "warning: dashboard, science: staging runs no image of them yet, so the manifests reference placeholder digests; deploy to staging first for the real ones (npm run promote -- staging)",
    );
    const docs = parseAllDocuments(
      readFileSync(path.join(ROOT, "rendered", "prod", "manifests.yaml"), "utf8"),
    ).map((d) => d.toJS() as { kind: string; metadata: { name: string }; spec?: any });
    expect(docs.map((d) => d.kind)).not.toContain("Secret");
    const vectors = docs.find((d) => d.kind === "Deployment" && d.metadata.name === "vectors");
    expect(vectors?.spec.template.spec.containers[0].image).toBe(
      `localhost:5000/pyfleet/vectors@${DIGEST}`,
    );
  });

  it("a bad setting renders nothing and is printed once, without a stack trace", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "pyfleet-local-"));
    const local = path.join(dir, "local.yaml");
    writeFileSync(local, "config:\n  pyfleet:replicas: -1\n");
    const result = render("dev", { PYFLEET_LOCAL_SETTINGS: local });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      'pyfleet settings for stack "dev" are invalid (1 problem); nothing was created or changed:\n' +
        "  - pyfleet:replicas: must be >= 0, got -1 (in Pulumi.dev.yaml or local.yaml)\n",
    );
  });
});

describe("the local settings file", () => {
  const saved = process.env["PYFLEET_LOCAL_SETTINGS"];
  afterEach(() => {
    process.env["PYFLEET_LOCAL_SETTINGS"] = saved;
  });

  it("merges objects key by key over the committed settings", () => {
    expect(
      withLocalSettings(
        { build: JSON.stringify({ push: true, platforms: ["linux/amd64"] }), registry: "a/b" },
        { "pyfleet:build": { builder: "pyfleet" }, "pyfleet:registry": "127.0.0.1:5000/pyfleet" },
      ),
    ).toEqual({
      build: JSON.stringify({ push: true, platforms: ["linux/amd64"], builder: "pyfleet" }),
      registry: "127.0.0.1:5000/pyfleet",
    });
  });

  it("is what offline tools read, the same as the program", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "pyfleet-local-"));
    const file = path.join(dir, "Pulumi.dev.local.yaml");
    writeFileSync(
      file,
      "config:\n  pyfleet:registry: 127.0.0.1:5999/pyfleet\n  pyfleet:build:\n    builder: pyfleet\n    pipNoIndex: true\n    pipFindLinks: http://127.0.0.1:5081/\n",
    );
    process.env["PYFLEET_LOCAL_SETTINGS"] = file;
    const settings = offlineSettings("dev", ROOT);
    expect(settings.registry.server).toBe("127.0.0.1:5999");
    expect(settings.build).toMatchObject({
      builder: "pyfleet",
      pipNoIndex: true,
      pipFindLinks: "http://127.0.0.1:5081/",
      push: true,
    });
  });

  it("refuses an encrypted value: secrets stay in the stack file", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "pyfleet-local-"));
    const file = path.join(dir, "Pulumi.dev.local.yaml");
    writeFileSync(file, "config:\n  pyfleet:registryPassword:\n    secure: v1:abc\n");
    process.env["PYFLEET_LOCAL_SETTINGS"] = file;
    expect(() => offlineSettings("dev", ROOT)).toThrow(
      "Pulumi.dev.local.yaml: pyfleet:registryPassword holds an encrypted value; secrets belong in the stack file (pulumi config set --secret pyfleet:registryPassword <value>), never in local settings",
    );
  });

  it("a build block in a promoting stack's local file is refused like a committed one", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "pyfleet-local-"));
    const file = path.join(dir, "Pulumi.staging.local.yaml");
    writeFileSync(file, "config:\n  pyfleet:build:\n    builder: pyfleet\n");
    process.env["PYFLEET_LOCAL_SETTINGS"] = file;
    expect(() => offlineSettings("staging", ROOT)).toThrow(SettingsError);
  });

  it("reads a stack's apps output from a file backend", () => {
    process.env["PULUMI_BACKEND_URL"] = `file://${backendWith("dev")}`;
    try {
      expect(stackApps(ROOT, "pyfleet", "dev")?.["vectors"]?.digest).toBe(DIGEST);
      expect(stackApps(ROOT, "pyfleet", "staging")).toBeUndefined();
    } finally {
      delete process.env["PULUMI_BACKEND_URL"];
    }
  });
});

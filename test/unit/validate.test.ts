import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { checkStack } from "../../cli/checks";
import { offlineSettings, stackFileConfig } from "../../stacks/offline";

const ROOT = path.resolve(__dirname, "..", "..");

/** A stack config file with `config` on top of dev's committed settings. */
function stackFile(config: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "pyfleet-validate-"));
  const file = path.join(dir, "Pulumi.dev.yaml");
  writeFileSync(
    file,
    stringify({
      config: { "pyfleet:registry": "localhost:5000/pyfleet", ...config },
    }),
  );
  return file;
}

describe("npm run validate", { timeout: 120_000 }, () => {
  it.each(["dev", "staging", "prod"])("passes on the repository's %s stack", async (stack) => {
    const result = await checkStack(stack, ROOT);
    expect(result.problems).toEqual([]);
    expect(result.counts.apps).toBe(3);
    expect(result.counts.objects).toBeGreaterThan(15);
    expect(result.counts.dockerfiles).toBe(stack === "dev" ? 3 : 0);
  });

  it("reports every settings problem at once, each with key, value and fix", async () => {
    const configFile = stackFile({
      "pyfleet:replicas": -1,
      "pyfleet:registryUsername": "ci",
      "pyfleet:apps": { vectors: { metrics: { port: 80, path: "/metrics" } } },
    });
    const result = await checkStack("dev", ROOT, { configFile });
    expect(result.problems).toEqual([
      "pyfleet:replicas: must be >= 0, got -1 (in Pulumi.dev.yaml)",
    ]);
  });

  it("checks what the program builds once the settings parse", async () => {
    const configFile = stackFile({
      "pyfleet:registryUsername": "ci",
      "pyfleet:apps": { vectors: { metrics: { port: 80, path: "/metrics" } } },
    });
    const result = await checkStack("dev", ROOT, { configFile });
    expect(result.problems).toEqual([
      "pyfleet:registryUsername: set without pyfleet:registryPassword, so the credentials would be dropped; set the password too: pulumi config set --secret pyfleet:registryPassword <token> --stack dev (or remove the user for an anonymous registry)",
      "apps.vectors.metrics.port: 80 is already the port of the app's Service (http, 80 -> 8000); serve metrics on another port, or on the app port 8000 itself",
    ]);
  });

  it("runs the policy pack with the stack's enforcement: advisory findings do not fail dev", async () => {
    const result = await checkStack("dev", ROOT);
    expect(result.counts.policies).toBeGreaterThan(20);
    for (const warning of result.warnings) expect(warning).toMatch(/^policy [a-z0-9-]+: /);
  });
});

describe("secrets as Pulumi stores them", () => {
  it("sees `--secret --path` values nested in a key as secret", () => {
    const read = stackFileConfig({
      config: {
        "pyfleet:appSecrets": { vectors: { API_TOKEN: { secure: "v1:abc" } } },
        "pyfleet:registryPassword": { secure: "v1:def" },
        "pyfleet:registry": "localhost:5000/pyfleet",
      },
    });
    expect(read.secretKeys.sort()).toEqual(["pyfleet:appSecrets", "pyfleet:registryPassword"]);
    expect(JSON.parse(read.config["pyfleet:appSecrets"]!)).toEqual({
      vectors: { API_TOKEN: "[secret]" },
    });
  });

  it("resolves a stack whose app secret was set with --secret --path (no 'plain text' error)", () => {
    const configFile = stackFile({
      "pyfleet:apps": { vectors: { secrets: ["API_TOKEN"] } },
      "pyfleet:appSecrets": { vectors: { API_TOKEN: { secure: "v1:abc" } } },
    });
    const settings = offlineSettings("dev", ROOT, { configFile });
    expect(settings.apps.find((a) => a.name === "vectors")?.secretNames).toEqual(["API_TOKEN"]);
  });

  it("still refuses a credential stored in plain text", () => {
    const configFile = stackFile({
      "pyfleet:appSecrets": { vectors: { API_TOKEN: "hunter2" } },
      "pyfleet:apps": { vectors: { secrets: ["API_TOKEN"] } },
    });
    expect(() => offlineSettings("dev", ROOT, { configFile })).toThrow(
      /pyfleet:appSecrets: holds a credential but is stored in plain text/,
    );
  });
});

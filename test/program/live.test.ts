import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, settle, stackFileConfig } from "../support/mocks";

/** Error hooks bound per registered resource (`<type> <name>` -> hook names). */
const onError = new Map<string, string[]>();

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getHooks(): { getOnErrorList(): string[] } | undefined;
}

beforeAll(async () => {
  process.env["PYFLEET_GIT_SHA"] = "0123456789abcdef0123456789abcdef01234567";
  const recorded = await installMocks({
    stack: "dev",
    config: { ...stackFileConfig("dev"), "pyfleet:kubeContext": "pyfleet" },
  });
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(request: RegisterRequest, callback: unknown): unknown;
  };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request, callback) => {
    onError.set(
      `${request.getType()} ${request.getName()}`,
      request.getHooks()?.getOnErrorList() ?? [],
    );
    return original(request, callback);
  };
  const program = (await import("../../index")).default;
  await program();
  await settle(recorded);
});

describe("dev on a live cluster (whole program under mocks)", () => {
  it("binds the rollout diagnosis to every Deployment, and to nothing else", () => {
    const bound = [...onError].filter(([, hooks]) => hooks.length > 0);
    expect(bound.map(([key]) => key).sort()).toEqual([
      "kubernetes:apps/v1:Deployment dashboard",
      "kubernetes:apps/v1:Deployment science",
      "kubernetes:apps/v1:Deployment vectors",
    ]);
    for (const [, hooks] of bound) expect(hooks).toEqual(["pyfleet-rollout-diagnosis"]);
  });
});

import { describe, expect, it } from "vitest";
import { runOffline } from "../../cli/offlineProgram";

describe("the offline run (validate, render) of a stack bound for a live cluster", () => {
  it("runs the program with the Deployments' error hook bound", async () => {
    const run = await runOffline("dev", { overrides: { "pyfleet:kubeContext": "pyfleet" } });
    expect(run.resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment")).toHaveLength(3);
  });
});

import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { KUBECTL_VARIABLE, rolloutDiagnosis } from "../../components/cluster";
import { installMocks } from "../support/mocks";

const REFUSED =
  'pods "dashboard-1a2b-5d8f-x" is forbidden: violates PodSecurity "restricted:latest": ' +
  "allowPrivilegeEscalation != false";

let dir = "";

/** A kubectl that answers from fixed JSON and records its arguments. */
function fakeKubectl(answers: Record<string, unknown>): string {
  const file = path.join(dir, "kubectl");
  const cases = Object.entries(answers)
    .map(([what, doc]) => `  *" get ${what} "*) echo '${JSON.stringify(doc)}' ;;`)
    .join("\n");
  writeFileSync(
    file,
    `#!/bin/sh\necho "$@" >> ${dir}/calls\ncase " $* " in\n${cases}\n  *) echo "no such object" >&2; exit 1 ;;\nesac\n`,
  );
  chmodSync(file, 0o755);
  return file;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "pyfleet-diagnosis-"));
  await installMocks({ stack: "dev", config: {} });
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  delete process.env[KUBECTL_VARIABLE];
});

type Callback = (args: pulumi.ErrorHookArgs) => Promise<boolean>;
const failedUpdate = (type = "kubernetes:apps/v1:Deployment"): pulumi.ErrorHookArgs => ({
  urn: "urn:x",
  id: "pyfleet-dev/dashboard-1a2b",
  name: "dashboard",
  type,
  newInputs: { metadata: { name: "dashboard-1a2b", namespace: "pyfleet-dev" } },
  failedOperation: "update",
  errors: ["[ProgressDeadlineExceeded] ReplicaSet has timed out progressing"],
});

describe("rolloutDiagnosis (the Deployments' error hook)", () => {
  it("is left out in render mode", async () => {
    expect(await rolloutDiagnosis({ mode: "render", directory: "rendered/dev" })).toBeUndefined();
  });

  it("reports what the cluster says under the provider's error, and never retries", async () => {
    process.env[KUBECTL_VARIABLE] = fakeKubectl({
      "deployment dashboard-1a2b": {
        kind: "Deployment",
        metadata: { name: "dashboard-1a2b", uid: "d1" },
        status: { conditions: [{ type: "ReplicaFailure", status: "True", message: REFUSED }] },
      },
      "replicasets,pods": { items: [] },
      events: { items: [] },
    });
    const errors = vi.spyOn(pulumi.log, "error").mockImplementation(() => Promise.resolve());
    const hook = (await rolloutDiagnosis({
      mode: "context",
      context: "pyfleet",
      kubeconfigPath: "/k/config",
    }))!;
    expect(await (hook.callback as Callback)(failedUpdate())).toBe(false);
    expect(errors.mock.calls.map((c) => c[0])).toEqual([
      "Deployment pyfleet-dev/dashboard-1a2b did not become ready; the cluster says:\n" +
        `  - the cluster refused its pods: ${REFUSED}`,
    ]);
    expect(readFileSync(path.join(dir, "calls"), "utf8")).toContain(
      "--kubeconfig /k/config --context pyfleet -n pyfleet-dev get deployment dashboard-1a2b",
    );

    // Other resource types are not its business.
    errors.mockClear();
    expect(await (hook.callback as Callback)(failedUpdate("kubernetes:core/v1:Service"))).toBe(
      false,
    );
    expect(errors).not.toHaveBeenCalled();
    errors.mockRestore();
  });

  it("says how to look when the cluster cannot be asked", async () => {
    process.env[KUBECTL_VARIABLE] = fakeKubectl({});
    const errors = vi.spyOn(pulumi.log, "error").mockImplementation(() => Promise.resolve());
    const hook = (await rolloutDiagnosis({ mode: "context" }))!;
    expect(await (hook.callback as Callback)(failedUpdate())).toBe(false);
    expect(errors.mock.calls[0]?.[0]).toMatch(
      /^Deployment pyfleet-dev\/dashboard-1a2b did not become ready; asking the cluster why failed \(.+\); see: kubectl -n pyfleet-dev describe deployment dashboard-1a2b$/,
    );
    errors.mockRestore();
  });
});

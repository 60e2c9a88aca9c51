/**
 * The dev stack's whole program under mocks, every registered resource fed through every policy
 * with policy/config/dev.json: the components and the pack agree when nothing is reported.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  evaluate,
  type EngineResource,
  type Evaluation,
  type PackConfigFile,
} from "../support/evaluate";
import { policies } from "../../policy/policies";
import { policyRun } from "../support/policyRun";

let resources: EngineResource[];
let result: Evaluation;
let config: PackConfigFile;

beforeAll(async () => {
  process.env["PYFLEET_GIT_SHA"] = "0123456789abcdef0123456789abcdef01234567";
  ({ resources, result, config } = await policyRun("dev"));
});

describe("policy pack on the dev stack (whole program under mocks)", () => {
  it("reports no violation and no preview note", () => {
    expect(result.violations).toEqual([]);
    expect(result.previewNotes).toEqual([]);
  });

  it("ran every policy on the objects dev creates", () => {
    const idle = Object.entries(result.applied)
      .filter(([, count]) => count === 0)
      .map(([name]) => name);
    // dev runs single replicas without PDBs or HPAs.
    expect(idle.sort()).toEqual(["hpa-min-replicas", "pdb-disruptions"]);
    expect(result.applied["image-build-args"]).toBe(3);
    expect(result.applied["image-registry"]).toBe(6);
    for (const d of resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment")) {
      expect(d.customTimeouts?.createSeconds).toBeGreaterThan(0);
    }
  });

  it("stays advisory in dev: a NodePort Service is reported, not blocked", async () => {
    const exposed = resources.map((r) =>
      r.type === "kubernetes:core/v1:Service" && r.name === "dashboard"
        ? {
            ...r,
            inputs: { ...r.inputs, spec: { ...(r.inputs["spec"] as object), type: "NodePort" } },
          }
        : r,
    );
    const found = await evaluate(policies, exposed, config);
    expect(found.violations.map((v) => [v.policy, v.enforcementLevel, v.message])).toEqual([
      [
        "service-cluster-ip",
        "advisory",
        'Service "dashboard": spec.type is "NodePort"; use "ClusterIP" and expose the app through its Ingress (C4).',
      ],
    ]);
  });
});

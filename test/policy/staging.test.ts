/**
 * The staging stack's whole program under mocks, every registered resource fed through every policy
 * with policy/config/staging.json: the components and the pack agree when nothing is reported.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  evaluate,
  type EngineResource,
  type Evaluation,
  type PackConfigFile,
} from "../support/evaluate";
import { policies } from "../../policy/policies";
import { devOutputs } from "../support/fixtures";
import { policyRun } from "../support/policyRun";

let resources: EngineResource[];
let result: Evaluation;
let config: PackConfigFile;

beforeAll(async () => {
  ({ resources, result, config } = await policyRun("staging", {
    "organization/pyfleet/dev": { apps: devOutputs() },
  }));
});

describe("policy pack on the staging stack (whole program under mocks)", () => {
  it("reports no violation and no preview note", () => {
    expect(result.violations).toEqual([]);
    expect(result.previewNotes).toEqual([]);
  });

  it("ran every policy on the objects staging creates", () => {
    const idle = Object.entries(result.applied)
      .filter(([, count]) => count === 0)
      .map(([name]) => name);
    // staging promotes dev's digests (no build) and runs fixed replica counts (no HPA).
    expect(idle.sort()).toEqual(["hpa-min-replicas", "image-build-args"]);
    expect(result.applied["pdb-disruptions"]).toBe(3);
    expect(result.applied["workload-topology-spread"]).toBe(3);
  });

  it("blocks a single replica in staging", async () => {
    const single = resources.map((r) =>
      r.type === "kubernetes:apps/v1:Deployment" && r.name === "vectors"
        ? { ...r, inputs: { ...r.inputs, spec: { ...(r.inputs["spec"] as object), replicas: 1 } } }
        : r,
    );
    const found = await evaluate(policies, single, config);
    expect(found.violations.map((v) => [v.policy, v.enforcementLevel, v.message])).toEqual([
      [
        "workload-replicas",
        "mandatory",
        'Deployment "vectors": spec.replicas is 1 in staging; set it to at least 2 (or leave it to an HPA with minReplicas >= 2) so a restart or a node drain never leaves the app without a ready pod (K17).',
      ],
    ]);
  });

  it("blocks an image from outside the allowed registry", async () => {
    const foreign = resources.map((r) =>
      r.type === "kubernetes:apps/v1:Deployment" && r.name === "science"
        ? {
            ...r,
            inputs: JSON.parse(
              JSON.stringify(r.inputs).replace(
                "localhost:5000/pyfleet/science@",
                "ghcr.io/someone/science@",
              ),
            ),
          }
        : r,
    );
    const found = await evaluate(policies, foreign, config);
    expect(found.violations.map((v) => [v.policy, v.enforcementLevel])).toEqual([
      ["image-registry", "mandatory"],
    ]);
  });
});

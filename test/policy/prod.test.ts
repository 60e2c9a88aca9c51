/**
 * The prod stack's whole program under mocks, every registered resource fed through every policy
 * with policy/config/prod.json: the components and the pack agree when nothing is reported.
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
  ({ resources, result, config } = await policyRun("prod", {
    "organization/pyfleet/staging": { apps: devOutputs("staging") },
  }));
});

describe("policy pack on the prod stack (whole program under mocks)", () => {
  it("reports no violation and no preview note", () => {
    expect(result.violations).toEqual([]);
    expect(result.previewNotes).toEqual([]);
  });

  it("ran every policy on the objects prod creates", () => {
    const idle = Object.entries(result.applied)
      .filter(([, count]) => count === 0)
      .map(([name]) => name);
    // prod promotes staging's digests: no image build.
    expect(idle).toEqual(["image-build-args"]);
    expect(result.applied["hpa-min-replicas"]).toBe(3);
    expect(result.applied["ingress-class-tls"]).toBe(3);
  });

  it("leaves spec.replicas to the HPAs, and blocks the Deployments once no HPA owns them", async () => {
    const deployments = resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment");
    for (const d of deployments) expect(d.inputs["spec"] as object).not.toHaveProperty("replicas");
    const withoutHpa = resources.filter(
      (r) => r.type !== "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    );
    const found = await evaluate(policies, withoutHpa, config);
    expect(found.violations.map((v) => [v.policy, v.enforcementLevel, v.urn])).toEqual(
      deployments.map((d) => ["workload-replicas-autoscaled", "mandatory", d.urn]),
    );
    expect(found.violations[0]!.message).toBe(
      'Deployment "dashboard" (dashboard-m0ck3d): spec.replicas is unset and no HorizontalPodAutoscaler targets it, so it runs one pod in prod; set spec.replicas to at least 2 or add an HPA with minReplicas >= 2 (K17).',
    );
  });

  it("blocks a public host without TLS", async () => {
    const plain = resources.map((r) => {
      if (r.type !== "kubernetes:networking.k8s.io/v1:Ingress" || r.name !== "vectors") return r;
      const spec = { ...(r.inputs["spec"] as Record<string, unknown>) };
      delete spec["tls"];
      return { ...r, inputs: { ...r.inputs, spec } };
    });
    const found = await evaluate(policies, plain, config);
    expect(found.violations.map((v) => [v.policy, v.enforcementLevel, v.message])).toEqual([
      [
        "ingress-class-tls",
        "mandatory",
        'Ingress "vectors": spec.rules[0].host "vectors.example.com" is served without TLS (no spec.tls entry lists it); add it to spec.tls with a certificate secret or a cert-manager issuer (C5).',
      ],
    ]);
  });
});

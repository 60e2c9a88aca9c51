/**
 * The prod stack's whole program under mocks, every registered resource fed through every policy
 * with policy/config/prod.json: the components and the pack agree when nothing is reported.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { beforeAll, describe, expect, it } from "vitest";
import {
  durationSeconds,
  evaluate,
  type EngineResource,
  type Evaluation,
  type PackConfigFile,
} from "../policy/evaluate";
import { policies } from "../policy/policies";
import { stackFileConfig } from "./support/mocks";
import { runProgram, type ProgramRun } from "./support/program";
import { devOutputs } from "./support/fixtures";

const STACK = "prod";
const config = JSON.parse(
  readFileSync(path.resolve(__dirname, "..", "policy", "config", `${STACK}.json`), "utf8"),
) as PackConfigFile;

// The mock monitor drops resource options; the engine hands customTimeouts to the analyzer.
const timeouts = new Map<string, { create: string; update: string }>();
const register = Object.getOwnPropertyDescriptor(MockMonitor.prototype, "registerResource")!
  .value as (this: MockMonitor, req: any, callback: any) => Promise<void>;
MockMonitor.prototype.registerResource = function (this: MockMonitor, req: any, callback: any) {
  const t = req.getCustomtimeouts();
  timeouts.set(`${req.getType()}::${req.getName()}`, {
    create: t?.getCreate() ?? "",
    update: t?.getUpdate() ?? "",
  });
  return register.call(this, req, callback);
};

let run: ProgramRun;
let resources: EngineResource[];
let result: Evaluation;

beforeAll(async () => {
  run = await runProgram({
    stack: STACK,
    config: stackFileConfig(STACK),
    stackOutputs: { "organization/pyfleet/staging": { apps: devOutputs("staging") } },
  });
  const provider = run.recorded.find((r) => r.type === "pulumi:providers:kubernetes")!;
  resources = run.recorded.map((r) => {
    const t = timeouts.get(`${r.type}::${r.name}`);
    return {
      type: r.type,
      name: r.name,
      urn: `urn:pulumi:${STACK}::pyfleet::${r.type}::${r.name}`,
      inputs: r.inputs,
      outputs: r.state,
      customTimeouts: {
        createSeconds: durationSeconds(t?.create ?? ""),
        updateSeconds: durationSeconds(t?.update ?? ""),
      },
      ...(r.type.startsWith("kubernetes:")
        ? {
            provider: {
              type: provider.type,
              name: provider.name,
              urn: "urn:k8s",
              props: provider.inputs,
            },
          }
        : {}),
    };
  });
  result = await evaluate(policies, resources, config);
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

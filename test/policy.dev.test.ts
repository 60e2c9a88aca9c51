/**
 * The dev stack's whole program under mocks, every registered resource fed through every policy
 * with policy/config/dev.json: the components and the pack agree when nothing is reported.
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

const STACK = "dev";
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
  process.env["PYFLEET_GIT_SHA"] = "0123456789abcdef0123456789abcdef01234567";
  run = await runProgram({ stack: STACK, config: stackFileConfig(STACK) });
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

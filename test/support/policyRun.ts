/**
 * Runs a stack's whole program under mocks and feeds every registered resource through every
 * policy of the pack with policy/config/<stack>.json, the way the engine would hand them to the
 * analyzer (resource options such as customTimeouts included).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import {
  durationSeconds,
  evaluate,
  type EngineResource,
  type Evaluation,
  type PackConfigFile,
} from "./evaluate";
import { policies } from "../../policy/policies";
import type { MockOptions } from "./mocks";
import { stackFileConfig } from "./mocks";
import { runProgram, type ProgramRun } from "./program";

/** What a policy run over one stack produced. */
export interface PolicyRun {
  /** The program run. */
  run: ProgramRun;
  /** Resources as the analyzer sees them. */
  resources: EngineResource[];
  /** The stack's enforcement config. */
  config: PackConfigFile;
  /** Violations, notes and how often each policy applied. */
  result: Evaluation;
}

// The mock monitor drops resource options; the engine hands customTimeouts to the analyzer.
const timeouts = new Map<string, { create: string; update: string }>();
let patched = false;
function recordTimeouts(): void {
  if (patched) return;
  patched = true;
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
}

/** Runs the program for `stack` and evaluates the pack over what it registered. */
export async function policyRun(
  stack: string,
  stackOutputs?: MockOptions["stackOutputs"],
): Promise<PolicyRun> {
  const config = JSON.parse(
    readFileSync(path.resolve(__dirname, "..", "..", "policy", "config", `${stack}.json`), "utf8"),
  ) as PackConfigFile;
  recordTimeouts();
  const run = await runProgram({
    stack,
    config: stackFileConfig(stack),
    ...(stackOutputs ? { stackOutputs } : {}),
  });
  const provider = run.recorded.find((r) => r.type === "pulumi:providers:kubernetes")!;
  const resources: EngineResource[] = run.recorded.map((r) => {
    const t = timeouts.get(`${r.type}::${r.name}`);
    return {
      type: r.type,
      name: r.name,
      urn: `urn:pulumi:${stack}::pyfleet::${r.type}::${r.name}`,
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
  resources.push(...signedRecords(stack, resources));
  return { run, resources, config, result: await evaluate(policies, resources, config) };
}

/**
 * The committed stacks carry no signing key, so their programs register no ImageEvidence; the
 * pack's other rules are judged here as on a stack that signs: one record per image its
 * workloads run, as components/supplyChain.ts writes it (test/policy/signatures.test.ts judges
 * the unsigned case).
 */
export function signedRecords(
  stack: string,
  resources: readonly EngineResource[],
): EngineResource[] {
  const images = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === "object" && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        if (key === "image" && typeof child === "string" && child.includes("@sha256:")) {
          images.add(child);
        } else walk(child);
      }
    }
  };
  for (const r of resources.filter((r) => r.type.startsWith("kubernetes:"))) walk(r.inputs);
  return [...images].map((image, index) => {
    const props = { image, evidenceOf: image, signed: true, signer: "0".repeat(64) };
    return {
      type: "pulumi-nodejs:dynamic/pyfleet:ImageEvidence",
      name: `evidence-${index}`,
      urn: `urn:pulumi:${stack}::pyfleet::pulumi-nodejs:dynamic/pyfleet:ImageEvidence::evidence-${index}`,
      inputs: props,
      outputs: props,
    };
  });
}

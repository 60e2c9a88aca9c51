/**
 * The pack under the real `@pulumi/policy` runtime: started the way the Pulumi CLI starts a local
 * policy pack (run-policy-pack, TypeScript compiled on the fly), then asked over gRPC what the
 * engine asks during a preview. Proves the pack loads, serves every policy, takes the per-stack
 * config and stays silent on values that are unknown during preview.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileConfig, type PackConfigFile } from "../support/evaluate";
import { policies } from "../../policy/policies";

/* eslint-disable @typescript-eslint/no-require-imports -- generated protobuf modules are CommonJS */
const rpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb.js");
const pb = require("@pulumi/pulumi/proto/analyzer_pb.js");
const structpb = require("google-protobuf/google/protobuf/struct_pb.js");
const emptypb = require("google-protobuf/google/protobuf/empty_pb.js");
/* eslint-enable @typescript-eslint/no-require-imports */

const ROOT = path.resolve(__dirname, "..", "..");
const LEVELS: Record<string, number> = { advisory: 0, mandatory: 1, disabled: 2, remediate: 3 };
const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

let pack: ChildProcess;
let client: any;

function call(method: string, request: unknown): Promise<any> {
  return new Promise((resolve, reject) => {
    client[method](request, (error: Error | null, response: unknown) =>
      error ? reject(error) : resolve(response),
    );
  });
}

async function configure(stack: string): Promise<void> {
  const file = JSON.parse(
    readFileSync(path.join(ROOT, "policy", "config", `${stack}.json`), "utf8"),
  ) as PackConfigFile;
  const request = new pb.ConfigureAnalyzerRequest();
  for (const [name, config] of reconcileConfig(policies, file)) {
    const policyConfig = new pb.PolicyConfig();
    policyConfig.setEnforcementlevel(LEVELS[config.enforcementLevel]);
    policyConfig.setProperties(structpb.Struct.fromJavaScript(config.properties));
    request.getPolicyconfigMap().set(name, policyConfig);
  }
  await call("configure", request);
}

interface FixtureStep {
  urn: string;
  type: string;
  newState: { inputs: Record<string, unknown> };
}
const steps = (
  JSON.parse(
    readFileSync(path.join(ROOT, "test", "fixtures", "preview-dev-create.json"), "utf8"),
  ) as {
    steps: FixtureStep[];
  }
).steps;
const dashboard = steps.find(
  (s) => s.type === "kubernetes:apps/v1:Deployment" && s.urn.endsWith("::dashboard"),
)!;

function options(timeoutSeconds: number): unknown {
  const opts = new pb.AnalyzerResourceOptions();
  const timeouts = new pb.AnalyzerResourceOptions.CustomTimeouts();
  timeouts.setCreate(timeoutSeconds);
  timeouts.setUpdate(timeoutSeconds);
  opts.setCustomtimeouts(timeouts);
  return opts;
}

async function analyze(
  inputs: Record<string, unknown>,
  timeoutSeconds: number,
): Promise<{ policy: string; level: number; message: string }[]> {
  const request = new pb.AnalyzeRequest();
  request.setType(dashboard.type);
  request.setName("dashboard");
  request.setUrn(dashboard.urn);
  request.setProperties(structpb.Struct.fromJavaScript(inputs));
  request.setOptions(options(timeoutSeconds));
  const response = await call("analyze", request);
  return response.getDiagnosticsList().map((d: any) => ({
    policy: d.getPolicyname(),
    level: d.getEnforcementlevel(),
    message: d.getMessage(),
  }));
}

beforeAll(async () => {
  pack = spawn(
    process.execPath,
    [require.resolve("@pulumi/pulumi/cmd/run-policy-pack"), "127.0.0.1:1", "."],
    { cwd: path.join(ROOT, "policy"), stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  pack.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<string>((resolve, reject) => {
    pack.stdout!.on("data", (chunk: Buffer) => resolve(chunk.toString().trim()));
    pack.on("exit", (code) => reject(new Error(`policy pack exited with ${code}: ${stderr}`)));
  });
  client = new rpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 120_000);

afterAll(() => {
  client?.close();
  pack?.kill();
});

describe("the pack under the policy runtime", () => {
  it("serves every policy of the pack, advisory unless configured", async () => {
    const info = (await call("getAnalyzerInfo", new emptypb.Empty())).toObject();
    expect(info.name).toBe("pyfleet");
    expect(info.policiesList.map((p: any) => p.name)).toEqual(policies.map((p) => p.name));
    expect(new Set(info.policiesList.map((p: any) => p.enforcementlevel))).toEqual(new Set([0]));
  });

  it("reports nothing on a real dev preview's Deployment, whose image is unknown", async () => {
    await configure("dev");
    const inputs = dashboard.newState.inputs as any;
    expect(inputs.spec.template.spec.containers[0].image).toBe(UNKNOWN_STRING);
    expect(await analyze(inputs, 300)).toEqual([]);
  });

  it("reports a privileged container next to the unknown image, mandatory under prod config", async () => {
    await configure("prod");
    const inputs = JSON.parse(JSON.stringify(dashboard.newState.inputs));
    inputs.spec.template.spec.containers[0].securityContext.privileged = true;
    const found = await analyze(inputs, 300);
    expect(found.map((d) => [d.policy, d.level])).toEqual([
      ["pod-privileged", 1],
      ["workload-replicas", 1],
    ]);
    expect(found[0]!.message).toBe(
      "Containers must not run privileged.\n" +
        'Deployment "dashboard" (dashboard-31ee5155): container "dashboard" sets securityContext.privileged to true; remove it (K1).',
    );
  });

  it("runs the stack policies over the whole preview", async () => {
    await configure("dev");
    const request = new pb.AnalyzeStackRequest();
    request.setResourcesList(
      steps.map((step) => {
        const resource = new pb.AnalyzerResource();
        resource.setType(step.type);
        resource.setName(step.urn.split("::").pop());
        resource.setUrn(step.urn);
        resource.setProperties(structpb.Struct.fromJavaScript(step.newState.inputs));
        resource.setOptions(options(0));
        return resource;
      }),
    );
    const response = await call("analyzeStack", request);
    expect(response.getDiagnosticsList()).toEqual([]);
  });
});

/**
 * The policy pack as the runtime sees it: the wrapped policies called through validateResource
 * with hand-built arguments, values unknown during preview, the pack's metadata and per-stack
 * config, and a recorded real preview fed through every policy.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { ResourceValidationArgs } from "@pulumi/policy";
import { UnknownValueError, unknownCheckingProxy } from "@pulumi/policy";
import { describe, expect, it, vi } from "vitest";
import { parse as parseYaml } from "yaml";
import { awaitTimeoutSeconds } from "../../stacks/settings";
import {
  durationSeconds,
  evaluate,
  reconcileConfig,
  type EngineResource,
  type PackConfigFile,
} from "../support/evaluate";
import { resourcePolicy } from "../../policy/framework";
import { policies, resourcePolicies } from "../../policy/policies";
import { UNKNOWN, UNKNOWN_SENTINELS, plain } from "../../policy/values";

vi.mock("@pulumi/policy", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@pulumi/policy")>()),
  PolicyPack: vi.fn(),
}));

const ROOT = path.resolve(__dirname, "..", "..");
const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const DIGEST = `sha256:${"b".repeat(64)}`;

function policy(name: string) {
  const found = resourcePolicies.find((p) => p.name === name);
  if (!found) throw new Error(`no policy ${name}`);
  return found;
}

/** Validation arguments as the runtime builds them: inputs behind its unknown-checking proxy. */
function args(
  type: string,
  name: string,
  props: Record<string, unknown>,
  config: object = {},
): ResourceValidationArgs {
  return {
    type,
    name,
    urn: `urn:pulumi:prod::pyfleet::${type}::${name}`,
    props: unknownCheckingProxy(props),
    opts: {
      protect: false,
      ignoreChanges: [],
      aliases: [],
      additionalSecretOutputs: [],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    },
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: <T extends object>() => config as T,
    notApplicable: (reason?: string): never => {
      throw new Error(reason);
    },
  };
}

async function validate(policyName: string, validation: ResourceValidationArgs): Promise<string[]> {
  const reported: string[] = [];
  const validateResource = policy(policyName).validateResource;
  for (const fn of [validateResource ?? []].flat()) {
    await fn(validation, (message) => reported.push(message));
  }
  return reported;
}

function podSpec(containers: unknown, extra: Record<string, unknown> = {}) {
  return {
    metadata: { name: "api-5f3c", namespace: "pyfleet-prod" },
    spec: {
      replicas: 2,
      selector: { matchLabels: { "app.kubernetes.io/name": "api" } },
      template: {
        metadata: { labels: { "app.kubernetes.io/name": "api" } },
        spec: { containers, ...extra },
      },
    },
  };
}

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";

describe("the wrapped policies, called through validateResource", () => {
  it("report the example message of the checklist", async () => {
    const props = podSpec([
      {
        name: "api",
        image: `r.example.com/api@${DIGEST}`,
        securityContext: { allowPrivilegeEscalation: true },
      },
    ]);
    expect(await validate("pod-privilege-escalation", args(DEPLOYMENT, "api", props))).toEqual([
      'Deployment "api" (api-5f3c): container "api" sets securityContext.allowPrivilegeEscalation to true; set it to false (K2).',
    ]);
  });

  it("skip resources of other types", async () => {
    const props = { spec: { type: "NodePort" } };
    expect(
      await validate("pod-privileged", args("kubernetes:core/v1:Service", "api", props)),
    ).toEqual([]);
    expect(await validate("service-cluster-ip", args(DEPLOYMENT, "api", props))).toEqual([]);
    expect(
      await validate("service-cluster-ip", args("kubernetes:core/v1:Service", "api", props)),
    ).toEqual([
      'Service "api": spec.type is "NodePort"; use "ClusterIP" and expose the app through its Ingress (C4).',
    ]);
  });

  it("read their configuration through getConfig", async () => {
    const props = podSpec([{ name: "api", image: `docker.io/library/python@${DIGEST}` }]);
    const validation = (config: object) => args(DEPLOYMENT, "api", props, config);
    expect(await validate("image-registry", validation({}))).toEqual([]);
    expect(
      await validate(
        "image-registry",
        validation({ allowedRegistries: ["localhost:5000/pyfleet"] }),
      ),
    ).toEqual([
      `Deployment "api" (api-5f3c): container "api" runs image "docker.io/library/python@${DIGEST}" from outside allowedRegistries (localhost:5000/pyfleet); use an allowed registry or extend allowedRegistries in the policy pack config (image-registry).`,
    ]);
    const single = {
      ...props,
      metadata: { name: "api-5f3c" },
      spec: { ...props.spec, replicas: 1 },
    };
    expect(
      await validate("workload-replicas", args(DEPLOYMENT, "api", single, { environment: "dev" })),
    ).toEqual([]);
    expect(
      await validate("workload-replicas", args(DEPLOYMENT, "api", single, { environment: "prod" })),
    ).toHaveLength(1);
  });

  it("see the engine's customTimeouts in the resource options", async () => {
    const validation = args(DEPLOYMENT, "api", podSpec([]));
    expect(await validate("workload-await-timeouts", validation)).toEqual([
      'Deployment "api" (api-5f3c): customTimeouts.create is unset, so pulumi up waits the provider default (10 minutes) for a failing rollout; set customTimeouts.create and .update a little above spec.progressDeadlineSeconds (K25).',
      'Deployment "api" (api-5f3c): customTimeouts.update is unset, so pulumi up waits the provider default (10 minutes) for a failing rollout; set customTimeouts.create and .update a little above spec.progressDeadlineSeconds (K25).',
    ]);
    validation.opts.customTimeouts = { createSeconds: 900, updateSeconds: 900, deleteSeconds: 0 };
    expect(await validate("workload-await-timeouts", validation)).toEqual([]);
  });
});

describe("values unknown during preview", () => {
  it("the runtime's proxy throws UnknownValueError for each sentinel this pack knows", () => {
    for (const sentinel of UNKNOWN_SENTINELS) {
      const proxy = unknownCheckingProxy({ value: sentinel }) as Record<string, unknown>;
      expect(() => proxy["value"]).toThrow(UnknownValueError);
    }
  });

  it("plain() turns proxied inputs into data with UNKNOWN in place of unknown values", () => {
    const proxy = unknownCheckingProxy({
      image: UNKNOWN_STRING,
      list: [1, UNKNOWN_STRING, { deep: "dd056dcd-154b-4c76-9bd3-c8f88648b5ff" }],
      known: { a: "b" },
    });
    expect(plain(proxy)).toEqual({
      image: UNKNOWN,
      list: [1, UNKNOWN, { deep: UNKNOWN }],
      known: { a: "b" },
    });
    expect(plain({ raw: UNKNOWN_STRING })).toEqual({ raw: UNKNOWN });
  });

  it("an unknown image is not unpinned, and does not hide other findings on the same pod", async () => {
    const props = podSpec([
      {
        name: "api",
        image: UNKNOWN_STRING,
        imagePullPolicy: "Always",
        securityContext: { privileged: true },
      },
    ]);
    const validation = () =>
      args(DEPLOYMENT, "api", props, { allowedRegistries: ["ghcr.io/acme"] });
    expect(await validate("image-digest", validation())).toEqual([]);
    expect(await validate("image-pull-policy", validation())).toEqual([]);
    expect(await validate("image-registry", validation())).toEqual([]);
    expect(await validate("pod-privileged", validation())).toEqual([
      'Deployment "api" (api-5f3c): container "api" sets securityContext.privileged to true; remove it (K1).',
    ]);
  });

  it("a naive policy reading the same unknown image stops with the runtime's advisory note", async () => {
    const naive = resourcePolicy({
      name: "naive-image",
      description: "Reads the image directly.",
      checklist: [],
      severity: "low",
      remediationSteps: "",
      types: [DEPLOYMENT],
      check: () => [],
    });
    naive.validateResource = (a, report) => {
      const spec = a.props["spec"] as { template: { spec: { containers: { image: string }[] } } };
      if (!spec.template.spec.containers[0]!.image.includes("@sha256:")) report("unpinned");
    };
    const props = podSpec([{ name: "api", image: UNKNOWN_STRING }]);
    const result = await evaluate([naive], [{ type: DEPLOYMENT, name: "api", inputs: props }]);
    expect(result.violations).toEqual([]);
    expect(result.previewNotes.map((n) => [n.enforcementLevel, n.message])).toEqual([
      [
        "advisory",
        "string value at .spec.template.spec.containers.0.image can't be known during preview",
      ],
    ]);
  });

  it("unknown pod templates, namespaces, replica counts and TLS hosts prove nothing", async () => {
    const deployment = podSpec([]);
    Object.assign(deployment.spec, {
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      minReadySeconds: 5,
      progressDeadlineSeconds: 120,
    });
    deployment.spec.template = UNKNOWN_STRING as any;
    const resources: EngineResource[] = [
      {
        type: DEPLOYMENT,
        name: "api",
        inputs: deployment,
        customTimeouts: { createSeconds: 300, updateSeconds: 300 },
      },
      {
        type: "kubernetes:core/v1:Service",
        name: "api",
        inputs: { metadata: { namespace: UNKNOWN_STRING }, spec: { type: UNKNOWN_STRING } },
      },
      {
        type: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        name: "deny",
        inputs: { metadata: { namespace: UNKNOWN_STRING }, spec: { podSelector: {} } },
      },
      {
        type: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
        name: "api",
        inputs: { metadata: { namespace: "pyfleet-prod" }, spec: { minReplicas: UNKNOWN_STRING } },
      },
      {
        type: "kubernetes:networking.k8s.io/v1:Ingress",
        name: "api",
        inputs: {
          metadata: { namespace: "pyfleet-prod" },
          spec: {
            ingressClassName: "traefik",
            rules: [{ host: "api.example.com" }],
            tls: UNKNOWN_STRING,
          },
        },
      },
    ];
    const result = await evaluate(policies, resources, {
      "workload-replicas": { environment: "prod" },
    });
    expect(result.violations).toEqual([]);
    expect(result.previewNotes).toEqual([]);
    expect(result.applied["pod-privileged"]).toBe(1);
  });
});

describe("the pack", () => {
  it("declares unique policies with a description, checklist ids and remediation", () => {
    const names = policies.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).not.toContain("all");
    for (const p of policies) {
      expect(p.description.length).toBeGreaterThan(10);
      expect(p.remediationSteps?.length).toBeGreaterThan(10);
      for (const id of p.tags ?? []) expect(id).toMatch(/^[KCDPS]\d+$/);
      expect(p.configSchema?.properties["enforcementLevel"]).toBeUndefined();
    }
  });

  it("covers the checklist items that resource inputs can prove", () => {
    const ids = new Set(policies.flatMap((p) => p.tags ?? []));
    const expected = [
      ...[
        1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
      ].map((n) => `K${n}`),
      ...[1, 2, 3, 4, 5, 6, 7].map((n) => `C${n}`),
      "P2",
      "D11",
      "S1",
    ];
    expect([...ids].sort()).toEqual(expected.sort());
    expect(policies.map((p) => p.name)).toContain("image-registry");
  });

  it("index.ts serves every policy as the advisory pyfleet pack", async () => {
    const { PolicyPack } = await import("@pulumi/policy");
    await import("../../policy/index");
    expect(PolicyPack).toHaveBeenCalledWith("pyfleet", { policies, enforcementLevel: "advisory" });
  });

  it("has the project files the policy runtime reads", () => {
    const project = parseYaml(readFileSync(path.join(ROOT, "policy", "PulumiPolicy.yaml"), "utf8"));
    expect(project.runtime).toBe("nodejs");
    expect(project.description).toMatch(/CHECKLIST/);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "policy", "package.json"), "utf8"));
    const root = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pkg.main).toBe("index.ts");
    expect(pkg.dependencies["@pulumi/policy"]).toBe(root.dependencies["@pulumi/policy"]);
    expect(pkg.dependencies["@pulumi/pulumi"]).toBe(root.dependencies["@pulumi/pulumi"]);
  });
});

describe("per-stack pack config", () => {
  const file = (stack: string): PackConfigFile =>
    JSON.parse(readFileSync(path.join(ROOT, "policy", "config", `${stack}.json`), "utf8"));
  const registry = (stack: string): string =>
    parseYaml(readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")).config[
      "pyfleet:registry"
    ];

  it.each([
    ["dev", "advisory"],
    ["staging", "mandatory"],
    ["prod", "mandatory"],
  ])("%s: every policy %s, environment set, registry allowed", (stack, level) => {
    const config = reconcileConfig(policies, file(stack));
    for (const p of policies) {
      // Unsigned images are reported everywhere, blocking only where a project turns it on.
      const expected = p.name === "images-signed" ? "advisory" : level;
      expect(config.get(p.name)!.enforcementLevel, p.name).toBe(expected);
    }
    expect(config.get("workload-replicas")!.properties).toEqual({ environment: stack });
    expect(config.get("workload-replicas-autoscaled")!.properties).toEqual({ environment: stack });
    const allowed = config.get("image-registry")!.properties["allowedRegistries"] as string[];
    if (allowed.length > 0) expect(allowed).toContain(registry(stack));
    expect(config.get("probe-startup")!.properties).toEqual({ minStartupSeconds: 60 });
  });

  it("rejects names and settings the pack does not declare", () => {
    expect(() => reconcileConfig(policies, { "no-such-policy": "mandatory" })).toThrow(
      'policy pack config names "no-such-policy", which is not a policy of the pack',
    );
    expect(() => reconcileConfig(policies, { "workload-replicas": { environment: "qa" } })).toThrow(
      'policy pack config workload-replicas.environment: "qa" is not one of "dev", "staging", "prod"',
    );
    expect(() =>
      reconcileConfig(policies, { "workload-replicas": { enviroment: "prod" } }),
    ).toThrow(
      "policy pack config workload-replicas.enviroment: the policy declares no such setting",
    );
    expect(() => reconcileConfig(policies, { all: "strict" as never })).toThrow(
      'all: "strict" is not an enforcement level',
    );
  });

  it("converts customTimeouts durations to seconds like the engine", () => {
    expect(durationSeconds("300s")).toBe(300);
    expect(durationSeconds("5m")).toBe(300);
    expect(durationSeconds("1h2m3s")).toBe(3723);
    expect(durationSeconds("")).toBe(0);
  });

  it("lets a policy's own level override all", () => {
    const config = reconcileConfig(policies, { all: "mandatory", "image-pull-policy": "advisory" });
    expect(config.get("image-pull-policy")!.enforcementLevel).toBe("advisory");
    expect(config.get("image-digest")!.enforcementLevel).toBe("mandatory");
  });
});

describe("a recorded real preview of the dev stack", () => {
  interface Step {
    urn: string;
    type: string;
    newState: { inputs: Record<string, unknown> };
  }
  const steps = (
    JSON.parse(
      readFileSync(path.join(ROOT, "test", "fixtures", "preview-dev-create.json"), "utf8"),
    ) as {
      steps: Step[];
    }
  ).steps;
  const provider = steps.find((s) => s.type === "pulumi:providers:kubernetes")!;
  const resources: EngineResource[] = steps.map((step) => {
    const spec = (step.newState.inputs as any).spec ?? {};
    const timeout =
      step.type === DEPLOYMENT
        ? awaitTimeoutSeconds({
            rollout: {
              minReadySeconds: spec.minReadySeconds,
              progressDeadlineSeconds: spec.progressDeadlineSeconds,
              drainSeconds: 0,
            },
          })
        : 0;
    return {
      type: step.type,
      name: step.urn.split("::").pop()!,
      urn: step.urn,
      inputs: step.newState.inputs,
      customTimeouts: { createSeconds: timeout, updateSeconds: timeout },
      ...(step.type.startsWith("kubernetes:")
        ? {
            provider: {
              type: provider.type,
              name: "k8s",
              urn: provider.urn,
              props: provider.newState.inputs,
            },
          }
        : {}),
    };
  });
  const deployments = resources.filter((r) => r.type === DEPLOYMENT);
  const config = JSON.parse(readFileSync(path.join(ROOT, "policy", "config", "dev.json"), "utf8"));

  it("has images that are unknown during preview", () => {
    expect(deployments).toHaveLength(3);
    for (const d of deployments) {
      expect((d.inputs as any).spec.template.spec.containers[0].image).toBe(UNKNOWN_STRING);
    }
  });

  it("passes every policy with no violation and no preview note", async () => {
    const result = await evaluate(policies, resources, config);
    expect(result.violations).toEqual([]);
    expect(result.previewNotes).toEqual([]);
    expect(result.applied["image-digest"]).toBe(3);
    expect(result.applied["namespace-not-system"]).toBeGreaterThan(15);
  });

  it("still flags an image once it is known and not pinned", async () => {
    const tagged = resources.map((r) =>
      r.urn === deployments[0]!.urn
        ? {
            ...r,
            inputs: JSON.parse(
              JSON.stringify(r.inputs).replace(
                UNKNOWN_STRING,
                "localhost:5000/pyfleet/dashboard:dev",
              ),
            ),
          }
        : r,
    );
    const result = await evaluate(policies, tagged, config);
    expect(result.violations.map((v) => [v.policy, v.enforcementLevel, v.message])).toEqual([
      [
        "image-digest",
        "advisory",
        'Deployment "dashboard" (dashboard-31ee5155): container "dashboard" runs image "localhost:5000/pyfleet/dashboard:dev" by the tag "dev", not by digest; deploy it by digest (repository@sha256:...) (K12).',
      ],
      [
        "images-signed",
        "advisory",
        'Deployment "dashboard" (dashboard-31ee5155): container "dashboard" runs localhost:5000/pyfleet/dashboard:dev, which no signature of this stack covers; set pyfleet:signing.key where the image is built and pyfleet:signing.publicKey where it is promoted (S1).',
      ],
    ]);
  });
});

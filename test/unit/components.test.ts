import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { AppNamespace as AppNamespaceType } from "../../components/appNamespace";
import type { PythonApp as PythonAppType } from "../../components/pythonApp";
import type { PythonImage as PythonImageType } from "../../components/pythonImage";
import { resolveSettings } from "../../stacks/settings";
import type { AppSettings } from "../../stacks/types";
import {
  installMocks,
  ofType,
  resolve,
  secretValue,
  settle,
  type Recorded,
} from "../support/mocks";
import { sources } from "../support/sources";

let recorded: Recorded[];
let PythonApp: typeof PythonAppType;
let PythonImage: typeof PythonImageType;
let AppNamespace: typeof AppNamespaceType;
const settings = resolveSettings(sources());
const vectors = settings.apps.find((a) => a.name === "vectors")!;
const image = `r/vectors@sha256:${"1".repeat(64)}`;

beforeAll(async () => {
  recorded = await installMocks({ stack: "dev", config: {} });
  ({ PythonApp } = await import("../../components/pythonApp"));
  ({ PythonImage } = await import("../../components/pythonImage"));
  ({ AppNamespace } = await import("../../components/appNamespace"));
});

function appArgs(
  app: AppSettings,
  extra: Partial<ConstructorParameters<typeof PythonAppType>[1]> = {},
) {
  return {
    app,
    environment: "dev" as const,
    namespace: "ns",
    rollout: settings.rollout,
    image,
    awaitTimeoutSeconds: 240,
    ...extra,
  };
}

describe("PythonImage", () => {
  it("passes tags, platforms, cache and secret credentials to docker-build", async () => {
    const built = new PythonImage("img", {
      context: "/src",
      dockerfile: "FROM x:1",
      repository: "reg.example.com/t/app",
      tags: ["1.0.0", "sha-abcdef0", "dev"],
      platforms: ["linux/amd64", "linux/arm64"],
      registry: { address: "reg.example.com", username: "ci", password: pulumi.secret("pw") },
      pipConf: pulumi.secret("[global]\nindex-url = https://u:p@idx/simple\n"),
    });
    const ref = await resolve(built.ref);
    await settle(recorded);
    const [input] = ofType(recorded, "docker-build:index:Image").filter((r) => r.name === "img");
    expect(input!.inputs).toMatchObject({
      tags: [
        "reg.example.com/t/app:1.0.0",
        "reg.example.com/t/app:sha-abcdef0",
        "reg.example.com/t/app:dev",
      ],
      platforms: ["linux/amd64", "linux/arm64"],
      push: false,
      exports: [{ raw: "type=registry,rewrite-timestamp=true" }],
      target: "production",
      cacheFrom: [{ registry: { ref: "reg.example.com/t/app:buildcache" } }],
      buildArgs: {},
    });
    // Credentials reach the provider only as secrets.
    expect(secretValue(input!.inputs["registries"])).toEqual([
      { address: "reg.example.com", username: "ci", password: "pw" },
    ]);
    expect(secretValue(input!.inputs["secrets"])).toEqual({
      "pip-conf": expect.stringContaining("index-url"),
    });
    expect(ref).toMatch(/^reg\.example\.com\/t\/app@sha256:[a-f0-9]{64}$/);
  });

  it("builds on the named builder when one is set", async () => {
    new PythonImage("remote", {
      context: "/s",
      dockerfile: "FROM x:1",
      repository: "r/a",
      tags: ["dev"],
      builder: "pyfleet",
      network: "host",
    });
    await settle(recorded);
    const [input] = ofType(recorded, "docker-build:index:Image").filter((r) => r.name === "remote");
    expect(input!.inputs["builder"]).toEqual({ name: "pyfleet" });
    expect(input!.inputs["network"]).toBe("host");
  });

  it("keeps the registry cache off when nothing is pushed", async () => {
    new PythonImage("local", {
      context: "/s",
      dockerfile: "FROM x:1",
      repository: "r/a",
      tags: ["dev"],
      push: false,
    });
    await settle(recorded);
    const [input] = ofType(recorded, "docker-build:index:Image").filter((r) => r.name === "local");
    expect(input!.inputs["cacheFrom"]).toBeUndefined();
    expect(input!.inputs["push"]).toBe(false);
  });

  it("refuses secret-looking build arguments and empty tag lists", () => {
    expect(
      () =>
        new PythonImage("bad", {
          context: "/s",
          dockerfile: "FROM x:1",
          repository: "r/a",
          tags: ["dev"],
          buildArgs: { NPM_TOKEN: "x" },
        }),
    ).toThrow('build argument NPM_TOKEN of image "bad" looks like a secret');
    expect(
      () =>
        new PythonImage("none", {
          context: "/s",
          dockerfile: "FROM x:1",
          repository: "r/a",
          tags: [],
        }),
    ).toThrow('image "none" needs at least one tag');
  });
});

describe("PythonApp", () => {
  it("creates a Secret from secret values and references it, never as literal env", async () => {
    const app = { ...vectors, name: "withsecret", secretNames: ["API_TOKEN"] };
    new PythonApp("withsecret", appArgs(app, { secretEnv: pulumi.secret({ API_TOKEN: "t0ken" }) }));
    await settle(recorded);
    const secret = ofType(recorded, "kubernetes:core/v1:Secret").find(
      (r) => r.name === "withsecret",
    )!;
    expect(secret.inputs).toMatchObject({
      type: "Opaque",
      metadata: { name: "withsecret-secrets" },
    });
    expect(secretValue(secret.inputs["stringData"])).toEqual({ API_TOKEN: "t0ken" });
    const deployment = ofType(recorded, "kubernetes:apps/v1:Deployment").find(
      (r) => r.name === "withsecret",
    )!;
    const container = (deployment.inputs as any).spec.template.spec.containers[0];
    expect(container.envFrom).toContainEqual({ secretRef: { name: "withsecret-secrets" } });
    expect(JSON.stringify(container)).not.toContain("t0ken");
  });

  it("in render mode references the Secret by name but does not write it", async () => {
    const app = { ...vectors, name: "rendered", secretNames: ["API_TOKEN"] };
    new PythonApp("rendered", appArgs(app, { createSecrets: false }));
    await settle(recorded);
    expect(
      ofType(recorded, "kubernetes:core/v1:Secret").find((r) => r.name === "rendered"),
    ).toBeUndefined();
    const deployment = ofType(recorded, "kubernetes:apps/v1:Deployment").find(
      (r) => r.name === "rendered",
    )!;
    expect((deployment.inputs as any).spec.template.spec.containers[0].envFrom).toContainEqual({
      secretRef: { name: "rendered-secrets" },
    });
  });

  it("adds GPU limits, runtime class, scrape annotations and a pull secret when asked", async () => {
    const app: AppSettings = {
      ...vectors,
      name: "gpu",
      gpu: { count: 1, runtimeClassName: "nvidia" },
      metrics: { port: 9090, path: "/metrics" },
    };
    new PythonApp("gpu", appArgs(app, { pullSecretName: "pyfleet-registry" }));
    await settle(recorded);
    const spec = (
      ofType(recorded, "kubernetes:apps/v1:Deployment").find((r) => r.name === "gpu")!.inputs as any
    ).spec;
    const pod = spec.template.spec;
    expect(pod.runtimeClassName).toBe("nvidia");
    expect(pod.imagePullSecrets).toEqual([{ name: "pyfleet-registry" }]);
    expect(pod.containers[0].resources.limits["nvidia.com/gpu"]).toBe("1");
    expect(pod.containers[0].ports).toContainEqual({
      name: "metrics",
      containerPort: 9090,
      protocol: "TCP",
    });
    expect(spec.template.metadata.annotations).toMatchObject({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "9090",
      "prometheus.io/path": "/metrics",
    });
  });

  it("gives workers exec heartbeat probes and no Service or Ingress", async () => {
    const app: AppSettings = { ...vectors, name: "worker", kind: "worker", volumes: [] };
    delete app.port;
    delete app.metrics;
    new PythonApp("worker", appArgs(app));
    await settle(recorded);
    expect(
      ofType(recorded, "kubernetes:core/v1:Service").find((r) => r.name === "worker"),
    ).toBeUndefined();
    expect(
      ofType(recorded, "kubernetes:networking.k8s.io/v1:Ingress").find((r) => r.name === "worker"),
    ).toBeUndefined();
    const container = (
      ofType(recorded, "kubernetes:apps/v1:Deployment").find((r) => r.name === "worker")!
        .inputs as any
    ).spec.template.spec.containers[0];
    expect(container.livenessProbe.exec.command.join(" ")).toContain("/tmp/heartbeat");
    expect(container.ports).toBeUndefined();
  });

  it("keeps PVCs when the app goes away", async () => {
    new PythonApp("keep", appArgs({ ...vectors, name: "keep" }));
    await settle(recorded);
    const pvc = ofType(recorded, "kubernetes:core/v1:PersistentVolumeClaim").find(
      (r) => r.name === "keep-vector-data",
    )!;
    expect(pvc.inputs).toMatchObject({
      spec: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: "local-path",
        resources: { requests: { storage: "1Gi" } },
      },
    });
  });

  it("with an HPA, starts a live Deployment at the HPA's minimum and renders none", async () => {
    const scaled = {
      ...vectors,
      autoscaling: { ...vectors.autoscaling, enabled: true, minReplicas: 3, maxReplicas: 6 },
    };
    new PythonApp("scaled-live", appArgs({ ...scaled, name: "scaled-live" }));
    new PythonApp("scaled-render", appArgs({ ...scaled, name: "scaled-render" }, { live: false }));
    new PythonApp("fixed", appArgs({ ...vectors, name: "fixed", replicas: 2 }, { live: false }));
    await settle(recorded);
    const spec = (name: string) =>
      ofType(recorded, "kubernetes:apps/v1:Deployment").find((r) => r.name === name)!.inputs[
        "spec"
      ] as { replicas?: number };
    // up waits for the minimum; the program ignores later changes (the HPA owns the count).
    expect(spec("scaled-live").replicas).toBe(3);
    // Whoever applies rendered manifests would reset the count on every apply.
    expect(spec("scaled-render")).not.toHaveProperty("replicas");
    expect(spec("fixed").replicas).toBe(2);
  });

  it("refuses an await timeout that does not exceed the progress deadline", () => {
    expect(() => new PythonApp("slow", appArgs(vectors, { awaitTimeoutSeconds: 100 }))).toThrow(
      "awaitTimeoutSeconds (100) must exceed progressDeadlineSeconds (180) so Kubernetes reports the failure first",
    );
  });
});

describe("AppNamespace", () => {
  it("refuses default and kube-system", () => {
    expect(() => new AppNamespace("d", { name: "default", environment: "dev" })).toThrow(
      'namespace must not be "default": pyfleet apps get their own namespace (pyfleet:namespace)',
    );
  });

  it("creates a dockerconfigjson pull secret from the credentials", async () => {
    const ns = new AppNamespace("ns-creds", {
      name: "team",
      environment: "dev",
      pullCredentials: { server: "reg.example.com", username: "ci", password: pulumi.secret("pw") },
    });
    expect(await resolve(ns.pullSecretName!)).toBe("pyfleet-registry");
    await settle(recorded);
    const secret = ofType(recorded, "kubernetes:core/v1:Secret").find(
      (r) => r.name === "ns-creds-registry",
    )!;
    const data = secretValue((secret.inputs as any).stringData) as Record<string, string>;
    const config = JSON.parse(data[".dockerconfigjson"]!);
    expect(config.auths["reg.example.com"]).toEqual({
      username: "ci",
      password: "pw",
      auth: Buffer.from("ci:pw").toString("base64"),
    });
  });
});

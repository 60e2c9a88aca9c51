import { beforeAll, describe, expect, it } from "vitest";
import { countByType, fakeDigest, ofType, stackFileConfig } from "./support/mocks";
import { runProgram, type ProgramRun } from "./support/program";
import { checklistSuite, manifestToolSuite } from "./support/checklist";
import { writeManifests } from "./support/manifests";
import { devOutputs } from "./support/fixtures";

let run: ProgramRun;
let manifestDir = "";
const source = devOutputs("staging");

beforeAll(async () => {
  run = await runProgram({
    stack: "prod",
    config: stackFileConfig("prod"),
    stackOutputs: { "organization/pyfleet/staging": { apps: source } },
  });
  manifestDir = writeManifests("prod", run.recorded);
});

describe("prod stack (whole program under mocks)", () => {
  it("creates exactly the expected objects, and no image build", () => {
    expect(countByType(run.recorded)).toEqual({
      "pulumi:providers:kubernetes": 1,
      "pulumi:pulumi:StackReference": 1,
      "pyfleet:k8s:AppNamespace": 1,
      "kubernetes:core/v1:Namespace": 1,
      "kubernetes:networking.k8s.io/v1:NetworkPolicy": 4,
      "pyfleet:k8s:PythonApp": 3,
      "kubernetes:core/v1:ServiceAccount": 3,
      "kubernetes:core/v1:ConfigMap": 2,
      "kubernetes:core/v1:PersistentVolumeClaim": 2,
      "kubernetes:apps/v1:Deployment": 3,
      "kubernetes:core/v1:Service": 3,
      "kubernetes:networking.k8s.io/v1:Ingress": 3,
      "kubernetes:policy/v1:PodDisruptionBudget": 3,
      "pulumi-nodejs:dynamic/pyfleet:RegistryTag": 6,
      "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": 3,
    });
    expect(ofType(run.recorded, "docker-build:index:Image")).toHaveLength(0);
  });

  it("reads staging's outputs through a StackReference on the file backend", () => {
    const [ref] = ofType(run.recorded, "pulumi:pulumi:StackReference");
    expect(ref!.inputs["name"]).toBe("organization/pyfleet/staging");
  });

  it("tags the promoted digests with the version and the environment in the registry", () => {
    const tags = ofType(run.recorded, "pulumi-nodejs:dynamic/pyfleet:RegistryTag").map((r) => ({
      name: r.name,
      repository: r.inputs["repository"],
      digest: r.inputs["digest"],
      tag: r.inputs["tag"],
    }));
    const expected = ["dashboard", "vectors", "science"].flatMap((app) => [
      {
        name: `${app}-tag-version`,
        repository: `localhost:5000/pyfleet/${app}`,
        digest: fakeDigest(app),
        tag: source[app]!.version,
      },
      {
        name: `${app}-tag-env`,
        repository: `localhost:5000/pyfleet/${app}`,
        digest: fakeDigest(app),
        tag: "prod",
      },
    ]);
    expect(tags).toEqual(expect.arrayContaining(expected));
    expect(tags).toHaveLength(6);
    const apps = run.outputs["apps"] as Record<string, { tags: string[] }>;
    expect(apps["vectors"]!.tags).toEqual([
      "localhost:5000/pyfleet/vectors:0.3.1",
      "localhost:5000/pyfleet/vectors:prod",
    ]);
  });

  it("deploys exactly the digests dev runs", () => {
    for (const d of ofType(run.recorded, "kubernetes:apps/v1:Deployment")) {
      const image = (
        d.inputs as { spec: { template: { spec: { containers: { image: string }[] } } } }
      ).spec.template.spec.containers[0]!.image;
      expect(image).toBe(source[d.name]!.image);
    }
    const apps = run.outputs["apps"] as Record<string, Record<string, unknown>>;
    expect(apps["vectors"]).toMatchObject({
      image: source["vectors"]!.image,
      digest: fakeDigest("vectors"),
      version: "0.3.1",
      revision: source["vectors"]!.revision,
      namespace: "pyfleet-prod",
      source: { stack: "staging", kind: "promotion" },
    });
  });

  it("leaves the replica count to an HPA of 3 to 10 pods", () => {
    const hpas = ofType(run.recorded, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler");
    for (const d of ofType(run.recorded, "kubernetes:apps/v1:Deployment")) {
      expect((d.inputs as { spec: { replicas?: number } }).spec.replicas).toBeUndefined();
      const hpa = hpas.find((h) => h.name === d.name)!;
      expect(hpa.inputs["spec"]).toMatchObject({ minReplicas: 3, maxReplicas: 10 });
    }
  });

  it("serves public hosts over TLS issued by cert-manager", () => {
    for (const ing of ofType(run.recorded, "kubernetes:networking.k8s.io/v1:Ingress")) {
      const inputs = ing.inputs as {
        metadata: { annotations: Record<string, string> };
        spec: { rules: { host: string }[]; tls: { hosts: string[]; secretName: string }[] };
      };
      expect(inputs.spec.rules[0]!.host).toBe(`${ing.name}.example.com`);
      expect(inputs.spec.tls).toEqual([
        { hosts: [`${ing.name}.example.com`], secretName: `${ing.name}-tls` },
      ]);
      expect(inputs.metadata.annotations["cert-manager.io/cluster-issuer"]).toBe(
        "letsencrypt-prod",
      );
    }
  });
});

checklistSuite("prod", () => run);
manifestToolSuite("prod", () => manifestDir);

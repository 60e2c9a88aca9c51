import { beforeAll, describe, expect, it } from "vitest";
import { countByType, fakeDigest, ofType, stackFileConfig } from "./support/mocks";
import { runProgram, type ProgramRun } from "./support/program";
import { checklistSuite, manifestToolSuite } from "./support/checklist";
import { writeManifests } from "./support/manifests";
import { devOutputs } from "./support/fixtures";

let run: ProgramRun;
let manifestDir = "";
const source = devOutputs();

beforeAll(async () => {
  run = await runProgram({
    stack: "staging",
    config: stackFileConfig("staging"),
    stackOutputs: { "organization/pyfleet/dev": { apps: source } },
  });
  manifestDir = writeManifests("staging", run.recorded);
});

describe("staging stack (whole program under mocks)", () => {
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
    });
    expect(ofType(run.recorded, "docker-build:index:Image")).toHaveLength(0);
  });

  it("reads dev's outputs through a StackReference on the file backend", () => {
    const [ref] = ofType(run.recorded, "pulumi:pulumi:StackReference");
    expect(ref!.inputs["name"]).toBe("organization/pyfleet/dev");
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
        tag: "staging",
      },
    ]);
    expect(tags).toEqual(expect.arrayContaining(expected));
    expect(tags).toHaveLength(6);
    const apps = run.outputs["apps"] as Record<string, { tags: string[] }>;
    expect(apps["vectors"]!.tags).toEqual([
      "localhost:5000/pyfleet/vectors:0.3.1",
      "localhost:5000/pyfleet/vectors:staging",
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
      namespace: "pyfleet-staging",
      source: { stack: "dev", kind: "promotion", promotedAt: "2026-11-01T12:00:00.000Z" },
    });
  });

  it("runs two replicas of every app", () => {
    for (const d of ofType(run.recorded, "kubernetes:apps/v1:Deployment")) {
      expect((d.inputs as { spec: { replicas: number } }).spec.replicas).toBe(2);
    }
  });
});

checklistSuite("staging", () => run);
manifestToolSuite("staging", () => manifestDir);

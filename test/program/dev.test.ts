import { beforeAll, describe, expect, it } from "vitest";
import { countByType, ofType, stackFileConfig } from "../support/mocks";
import { runProgram, type ProgramRun } from "../support/program";
import { checklistSuite, manifestToolSuite } from "../support/checklist";
import { writeManifests } from "../support/manifests";

let run: ProgramRun;
let manifestDir = "";

beforeAll(async () => {
  process.env["PYFLEET_GIT_SHA"] = "0123456789abcdef0123456789abcdef01234567";
  run = await runProgram({ stack: "dev", config: stackFileConfig("dev") });
  manifestDir = writeManifests("dev", run.recorded);
});

describe("dev stack (whole program under mocks)", () => {
  it("records each build's key and what went into it, for the next preview's reasons", () => {
    const apps = run.outputs["apps"] as Record<string, { build?: Record<string, unknown> }>;
    const build = apps["vectors"]!.build!;
    expect(build["key"]).toMatch(/^[0-9a-f]{64}$/);
    expect(build["dependencies"]).toEqual({
      fastapi: "0.165.0",
      uvicorn: "0.54.0",
      numpy: "2.4.6",
    });
    expect(build["dependencyFiles"]).toEqual(["requirements.txt"]);
    // What BuildKit receives: .dockerignore leaves out the tests and itself.
    expect(Object.keys(build["files"] as object).sort()).toEqual([
      "README.md",
      "VERSION",
      "requirements.txt",
      "vectors/__init__.py",
      "vectors/main.py",
      "vectors/metrics.py",
      "vectors/store.py",
    ]);
    expect(build["settings"]).toMatchObject({ "build.platforms": "linux/amd64", kind: "fastapi" });
    // Per-commit values stay out of the key: the record names no revision.
    expect(JSON.stringify(build)).not.toContain("0123456789abcdef");
    expect(new Set(Object.values(apps).map((a) => a.build?.["key"])).size).toBe(3);
  });

  it("creates exactly the expected objects", () => {
    expect(countByType(run.recorded)).toEqual({
      "pulumi:providers:kubernetes": 1,
      "pyfleet:k8s:AppNamespace": 1,
      "kubernetes:core/v1:Namespace": 1,
      "kubernetes:networking.k8s.io/v1:NetworkPolicy": 4,
      "pyfleet:release:AppRelease": 3,
      "pyfleet:image:PythonImage": 3,
      "docker-build:index:Image": 3,
      "pulumi-nodejs:dynamic/pyfleet:ImageSize": 3,
      "pyfleet:k8s:PythonApp": 3,
      "kubernetes:core/v1:ServiceAccount": 3,
      "kubernetes:core/v1:ConfigMap": 2,
      "kubernetes:core/v1:PersistentVolumeClaim": 2,
      "kubernetes:apps/v1:Deployment": 3,
      "pulumi-nodejs:dynamic/pyfleet:RunHistory": 3,
      "kubernetes:core/v1:Service": 3,
      "kubernetes:networking.k8s.io/v1:Ingress": 3,
    });
  });

  it("builds every app with version, sha and environment tags and pushes it", () => {
    const images = ofType(run.recorded, "docker-build:index:Image");
    const dashboard = images.find((i) => i.name === "dashboard-image")!;
    expect(dashboard.inputs["tags"]).toEqual([
      "localhost:5000/pyfleet/dashboard:1.2.0",
      expect.stringMatching(/^localhost:5000\/pyfleet\/dashboard:sha-0123456(-dirty)?$/),
      "localhost:5000/pyfleet/dashboard:dev",
    ]);
    // Pushed by a registry export that stamps layers with the commit time (reproducible).
    expect(dashboard.inputs["push"]).toBe(false);
    expect(dashboard.inputs["exports"]).toEqual([{ raw: "type=registry,rewrite-timestamp=true" }]);
    expect(dashboard.inputs["platforms"]).toEqual(["linux/amd64"]);
    expect(dashboard.inputs["target"]).toBe("production");
    expect(dashboard.inputs["buildOnPreview"]).toBe(false);
    expect(dashboard.inputs["cacheFrom"]).toEqual([
      { registry: { ref: "localhost:5000/pyfleet/dashboard:buildcache" } },
    ]);
    expect(dashboard.inputs["cacheTo"]).toEqual([
      {
        registry: {
          ref: "localhost:5000/pyfleet/dashboard:buildcache",
          mode: "max",
          imageManifest: true,
          ociMediaTypes: true,
        },
      },
    ]);
    const labels = dashboard.inputs["labels"] as Record<string, string>;
    expect(labels["org.opencontainers.image.version"]).toBe("1.2.0");
    expect(labels["org.opencontainers.image.revision"]).toBe(
      "0123456789abcdef0123456789abcdef01234567",
    );
    const vectors = images.find((i) => i.name === "vectors-image")!;
    expect((vectors.inputs["tags"] as string[])[0]).toBe("localhost:5000/pyfleet/vectors:0.3.1");
    const science = images.find((i) => i.name === "science-image")!;
    expect((science.inputs["tags"] as string[])[0]).toBe("localhost:5000/pyfleet/science:0.9.0");
    expect(String((science.inputs["dockerfile"] as { inline: string }).inline)).toContain(
      "micromamba create",
    );
  });

  it("deploys each image by the digest the build produced", () => {
    const images = ofType(run.recorded, "docker-build:index:Image");
    for (const deployment of ofType(run.recorded, "kubernetes:apps/v1:Deployment")) {
      const image = images.find((i) => i.name === `${deployment.name}-image`)!;
      const container = (
        deployment.inputs as {
          spec: { template: { spec: { containers: { image: string }[] } } };
        }
      ).spec.template.spec.containers[0]!;
      expect(container.image).toBe(
        `localhost:5000/pyfleet/${deployment.name}@${String(image.state["digest"])}`,
      );
    }
  });

  it("exports stable per-app outputs that promotion reads", () => {
    const apps = run.outputs["apps"] as Record<string, Record<string, unknown>>;
    expect(Object.keys(apps)).toEqual(["dashboard", "vectors", "science"]);
    expect(apps["dashboard"]).toMatchObject({
      image: expect.stringMatching(/^localhost:5000\/pyfleet\/dashboard@sha256:[a-f0-9]{64}$/),
      digest: expect.stringMatching(/^sha256:/),
      repository: "localhost:5000/pyfleet/dashboard",
      version: "1.2.0",
      revision: "0123456789abcdef0123456789abcdef01234567",
      url: "http://dashboard.dev.localhost/",
      namespace: "pyfleet-dev",
      source: { stack: "dev", kind: "build" },
    });
    expect(run.outputs["environment"]).toBe("dev");
    expect(run.outputs["manifests"]).toBe("rendered/dev");
  });
});

checklistSuite("dev", () => run);
manifestToolSuite("dev", () => manifestDir);

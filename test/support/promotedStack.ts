/**
 * Whole-program tests shared by the stacks that promote instead of building (staging, prod):
 * exact objects, no image build, the StackReference, the registry tags and the digests.
 */
import { describe, expect, it } from "vitest";
import type { AppOutput } from "../../model/promotion";
import { countByType, fakeDigest, ofType } from "./mocks";
import type { ProgramRun } from "./program";

/** Objects every promoting stack creates for the three example apps. */
const BASE_COUNTS: Record<string, number> = {
  "pulumi:providers:kubernetes": 1,
  "pulumi:pulumi:StackReference": 1,
  "pyfleet:k8s:AppNamespace": 1,
  "kubernetes:core/v1:Namespace": 1,
  "kubernetes:networking.k8s.io/v1:NetworkPolicy": 4,
  "pyfleet:release:AppRelease": 3,
  "pyfleet:k8s:PythonApp": 3,
  "kubernetes:core/v1:ServiceAccount": 3,
  "kubernetes:core/v1:ConfigMap": 2,
  "kubernetes:core/v1:PersistentVolumeClaim": 2,
  "kubernetes:apps/v1:Deployment": 3,
  "pulumi-nodejs:dynamic/pyfleet:RunHistory": 3,
  "kubernetes:core/v1:Service": 3,
  "kubernetes:networking.k8s.io/v1:Ingress": 3,
  "kubernetes:policy/v1:PodDisruptionBudget": 3,
  "pulumi-nodejs:dynamic/pyfleet:RegistryTag": 6,
};

/** Declares the shared tests of a promoting stack. */
export function promotedStackSuite(
  stack: "staging" | "prod",
  fromStack: string,
  source: Readonly<Record<string, AppOutput>>,
  getRun: () => ProgramRun,
  extraCounts: Record<string, number> = {},
): void {
  describe(`${stack} stack promotes from ${fromStack} (whole program under mocks)`, () => {
    it("creates exactly the expected objects, and no image build", () => {
      expect(countByType(getRun().recorded)).toEqual({ ...BASE_COUNTS, ...extraCounts });
      expect(ofType(getRun().recorded, "docker-build:index:Image")).toHaveLength(0);
    });

    it(`reads ${fromStack}'s outputs through a StackReference on the file backend`, () => {
      const [ref] = ofType(getRun().recorded, "pulumi:pulumi:StackReference");
      expect(ref!.inputs["name"]).toBe(`organization/pyfleet/${fromStack}`);
    });

    it("tags the promoted digests with the version and the environment in the registry", () => {
      const tags = ofType(getRun().recorded, "pulumi-nodejs:dynamic/pyfleet:RegistryTag").map(
        (r) => ({
          name: r.name,
          repository: r.inputs["repository"],
          digest: r.inputs["digest"],
          tag: r.inputs["tag"],
        }),
      );
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
          tag: stack,
        },
      ]);
      expect(tags).toEqual(expect.arrayContaining(expected));
      expect(tags).toHaveLength(6);
      const apps = getRun().outputs["apps"] as Record<string, { tags: string[] }>;
      expect(apps["vectors"]!.tags).toEqual([
        "localhost:5000/pyfleet/vectors:0.3.1",
        `localhost:5000/pyfleet/vectors:${stack}`,
      ]);
    });

    it(`deploys exactly the digests ${fromStack} runs, and records where they came from`, () => {
      for (const d of ofType(getRun().recorded, "kubernetes:apps/v1:Deployment")) {
        const image = (
          d.inputs as { spec: { template: { spec: { containers: { image: string }[] } } } }
        ).spec.template.spec.containers[0]!.image;
        expect(image).toBe(source[d.name]!.image);
      }
      const apps = getRun().outputs["apps"] as Record<string, Record<string, unknown>>;
      expect(apps["vectors"]).toMatchObject({
        image: source["vectors"]!.image,
        digest: fakeDigest("vectors"),
        version: "0.3.1",
        revision: source["vectors"]!.revision,
        namespace: `pyfleet-${stack}`,
        source: { stack: fromStack, kind: "promotion", promotedAt: "2026-11-01T12:00:00.000Z" },
      });
    });
  });
}

import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { summarisePreview, type PreviewJson, type PreviewStep } from "../../ci/previewSummary";
import { fakeDigest } from "../support/mocks";

const recorded = JSON.parse(
  readFileSync(path.join(__dirname, "..", "fixtures", "preview-dev-create.json"), "utf8"),
) as PreviewJson;

function step(name: string, type: string): PreviewStep {
  const found = recorded.steps!.find((s) => s.type === type && s.urn.endsWith(`::${name}`));
  if (!found) throw new Error(`no ${type} ${name} in the fixture`);
  return JSON.parse(JSON.stringify(found)) as PreviewStep;
}

function withImage(
  inputs: Record<string, unknown>,
  image: string,
  version: string,
  revision: string,
  replicas?: number,
) {
  const copy = JSON.parse(JSON.stringify(inputs));
  copy.spec.template.spec.containers[0].image = image;
  copy.spec.template.metadata.annotations = {
    ...copy.spec.template.metadata.annotations,
    "pyfleet.dev/version": version,
    "pyfleet.dev/revision": revision,
  };
  if (replicas === undefined) delete copy.spec.replicas;
  else copy.spec.replicas = replicas;
  return copy as Record<string, unknown>;
}

describe("summarisePreview", () => {
  it("summarises a recorded first preview of dev (everything to create)", () => {
    const md = summarisePreview("dev", recorded);
    expect(md).toMatch(
      /^### pyfleet preview: `dev`\n\n\d+ to create, 0 to update, 0 to replace, 0 to delete, 0 unchanged\./,
    );
    expect(md).toContain("| create | `docker-build:index:Image` | vectors-image |");
    expect(md).toContain("| create | `kubernetes:apps/v1:Deployment` | dashboard |");
    // New builds have no digest before `up`: the summary says so rather than printing a placeholder.
    expect(md).toContain("| vectors | — | 0.3.1 · sha-");
    expect(md).toContain("new build (digest known after up)");
    expect(md).not.toContain("04da6b54-80e4-46f7-96ec-b56ff0331ba9");
  });

  it("shows updates, replacements, deletions, image and scale changes of a promotion", () => {
    const deployment = step("vectors", "kubernetes:apps/v1:Deployment");
    const base = deployment.newState!.inputs!;
    const oldImage = `localhost:5000/pyfleet/vectors@${fakeDigest("old")}`;
    const newImage = `localhost:5000/pyfleet/vectors@${fakeDigest("new")}`;
    const update: PreviewStep = {
      ...deployment,
      op: "update",
      oldState: { inputs: withImage(base, oldImage, "0.3.0", "1".repeat(40), 2) },
      newState: { inputs: withImage(base, newImage, "0.3.1", "2".repeat(40), 3) },
      diffReasons: ["spec"],
    };
    const pvc = {
      ...step("vectors-vector-data", "kubernetes:core/v1:PersistentVolumeClaim"),
      op: "replace",
      diffReasons: ["spec"],
    };
    const replaced = { ...pvc, op: "create-replacement" };
    const ingress = step("science", "kubernetes:networking.k8s.io/v1:Ingress");
    const deleted: PreviewStep = {
      ...ingress,
      op: "delete",
      oldState: { inputs: ingress.newState!.inputs! },
    };
    delete deleted.newState;
    const same = { ...step("dashboard", "kubernetes:core/v1:ServiceAccount"), op: "same" };
    const md = summarisePreview("prod", { steps: [update, pvc, replaced, deleted, same] });
    expect(md).toContain("0 to create, 1 to update, 1 to replace, 1 to delete, 1 unchanged.");
    expect(md).toContain("| update | `kubernetes:apps/v1:Deployment` | vectors (spec) |");
    expect(md).toContain(
      "| replace | `kubernetes:core/v1:PersistentVolumeClaim` | vectors-vector-data (spec) |",
    );
    expect(md).toContain("| delete | `kubernetes:networking.k8s.io/v1:Ingress` | science |");
    expect(md).not.toContain("| same |");
    expect(md).toContain(
      `| vectors | 0.3.0 · sha-1111111 · \`${fakeDigest("old").slice(0, 19)}\` | 0.3.1 · sha-2222222 · \`${fakeDigest("new").slice(0, 19)}\` |`,
    );
    expect(md).toContain("| vectors | 2 → 3 |");
  });

  it("says when nothing changes", () => {
    const same = { ...step("dashboard", "kubernetes:core/v1:ServiceAccount"), op: "same" };
    expect(summarisePreview("staging", { steps: [same] })).toContain("No changes.");
  });
});

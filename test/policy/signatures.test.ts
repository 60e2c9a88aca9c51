/** S1 in the pack (policy/signatures.ts): every workload image is covered by a signed record. */
import { describe, expect, it } from "vitest";
import { checkImagesSigned } from "../../policy/signatures";
import type { Resource } from "../../policy/resource";

const IMAGE = `localhost:5000/pyfleet/vectors@sha256:${"b".repeat(64)}`;
const EVIDENCE = "pulumi-nodejs:dynamic/pyfleet:ImageEvidence";

function deployment(image: unknown): Resource {
  return {
    type: "kubernetes:apps/v1:Deployment",
    name: "vectors",
    urn: "urn:deployment",
    props: {
      metadata: { name: "vectors" },
      spec: { template: { spec: { containers: [{ name: "vectors", image }] } } },
    },
  };
}
const evidence = (props: Record<string, unknown>): Resource => ({
  type: EVIDENCE,
  name: "vectors-evidence",
  props,
});

describe("images-signed", () => {
  it("flags a workload image no record covers, naming it and the fix", () => {
    const found = checkImagesSigned([deployment(IMAGE)]);
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toContain(`runs ${IMAGE}, which no signature of this stack covers`);
    expect(found[0]!.message).toContain("pyfleet:signing.key");
    expect(found[0]!.urn).toBe("urn:deployment");
  });

  it("passes an image a signed record covers", () => {
    expect(
      checkImagesSigned([deployment(IMAGE), evidence({ evidenceOf: IMAGE, signed: true })]),
    ).toEqual([]);
  });

  it("flags an image whose record is not signed, or covers another digest", () => {
    expect(
      checkImagesSigned([deployment(IMAGE), evidence({ evidenceOf: IMAGE, signed: false })]),
    ).toHaveLength(1);
    const other = IMAGE.replace(/b{64}$/, "c".repeat(64));
    expect(
      checkImagesSigned([deployment(IMAGE), evidence({ evidenceOf: other, signed: true })]),
    ).toHaveLength(1);
  });

  it("proves nothing while a record or the image is unknown (a preview)", () => {
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    expect(
      checkImagesSigned([deployment(IMAGE), evidence({ evidenceOf: unknown, signed: unknown })]),
    ).toEqual([]);
    expect(checkImagesSigned([deployment(unknown)])).toEqual([]);
  });
});

/**
 * S1 wherever the pack runs: every image a workload runs is covered by an `ImageEvidence` of
 * the same stack (components/supplyChain.ts) saying its digest is signed, whether the stack
 * signed it (builds) or verified it before deploying (promotions). Stack policies see outputs,
 * which may be unknown during preview, so only known values prove a violation.
 */
import type { PyfleetStackPolicy, StackFinding } from "./framework";
import { stackPolicy } from "./framework";
import { WORKLOAD_TYPES, containersOf, podOf } from "./pods";
import { message, type Resource } from "./resource";
import { asString, isUnknown } from "./values";

/** Whether a resource is pyfleet's record of a digest's signature and SBOM. */
function isEvidence(resource: Resource): boolean {
  return resource.type.startsWith("pulumi-nodejs:dynamic") && "evidenceOf" in resource.props;
}

/** Workload containers whose image no signed ImageEvidence of the stack covers. */
export function checkImagesSigned(resources: Resource[]): StackFinding[] {
  const evidence = resources.filter(isEvidence);
  // A record whose outputs are not known yet (a preview) could cover any image.
  if (evidence.some((e) => isUnknown(e.props["evidenceOf"]) || isUnknown(e.props["signed"]))) {
    return [];
  }
  const signed = new Set(
    evidence.filter((e) => e.props["signed"] === true).map((e) => asString(e.props["evidenceOf"])),
  );
  const findings: StackFinding[] = [];
  for (const workload of resources.filter((r) => WORKLOAD_TYPES.includes(r.type))) {
    const pod = podOf(workload);
    if (!pod) continue;
    for (const container of containersOf(pod)) {
      const image = container.spec["image"];
      if (isUnknown(image) || typeof image !== "string" || signed.has(image)) continue;
      findings.push({
        message: message(
          workload,
          `${container.label} runs ${image}, which no signature of this stack covers`,
          "set pyfleet:signing.key where the image is built and pyfleet:signing.publicKey where it is promoted",
          "S1",
        ),
        ...(workload.urn !== undefined ? { urn: workload.urn } : {}),
      });
    }
  }
  return findings;
}

/** The signature policy. */
export const signaturePolicies: PyfleetStackPolicy[] = [
  stackPolicy({
    name: "images-signed",
    description: "Every image a workload runs is signed by digest, with its SBOM attested.",
    checklist: ["S1"],
    severity: "high",
    remediationSteps:
      "Sign where the image is built (pyfleet:signing.key) and verify where it is promoted (pyfleet:signing.publicKey).",
    check: (resources) => checkImagesSigned(resources),
  }),
];

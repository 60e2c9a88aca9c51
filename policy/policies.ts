/**
 * Every policy of the pyfleet pack, grouped by module. Kept apart from `index.ts`, which starts
 * the policy server, so tests and tools can load the policies without serving them.
 */
import { clusterPolicies } from "./cluster";
import { companionPolicies } from "./companions";
import type { PyfleetResourcePolicy, PyfleetStackPolicy } from "./framework";
import { identityPolicies } from "./identity";
import { imagePolicies } from "./images";
import { labelPolicies } from "./labels";
import { podSecurityPolicies } from "./podSecurity";
import { probePolicies } from "./probes";
import { resourceRequestPolicies } from "./resources";
import { rolloutPolicies } from "./rollout";
import { signaturePolicies } from "./signatures";
import { stackPolicies } from "./stack";

/** The resource policies, by checklist area (pods K1-K24, images, every object, companions). */
export const resourcePolicies: PyfleetResourcePolicy[] = [
  ...podSecurityPolicies,
  ...resourceRequestPolicies,
  ...probePolicies,
  ...rolloutPolicies,
  ...identityPolicies,
  ...labelPolicies,
  ...imagePolicies,
  ...clusterPolicies,
  ...companionPolicies,
];

/** Every policy of the pack. */
export const policies: (PyfleetResourcePolicy | PyfleetStackPolicy)[] = [
  ...resourcePolicies,
  ...stackPolicies,
  ...signaturePolicies,
];

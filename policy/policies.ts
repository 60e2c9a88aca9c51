/**
 * Every policy of the pyfleet pack, grouped by module. Kept apart from `index.ts`, which starts
 * the policy server, so tests and tools can load the policies without serving them.
 */
import { clusterPolicies } from "./cluster";
import { companionPolicies } from "./companions";
import type { PyfleetResourcePolicy, PyfleetStackPolicy } from "./framework";
import { imagePolicies } from "./images";
import { stackPolicies } from "./stack";
import { workloadPolicies } from "./workload";

/** The resource policies. */
export const resourcePolicies: PyfleetResourcePolicy[] = [
  ...workloadPolicies,
  ...imagePolicies,
  ...clusterPolicies,
  ...companionPolicies,
];

/** Every policy of the pack. */
export const policies: (PyfleetResourcePolicy | PyfleetStackPolicy)[] = [
  ...resourcePolicies,
  ...stackPolicies,
];

/**
 * Labels (K24 of CHECKLIST.md): pod templates carry the app.kubernetes.io/* labels, and a
 * workload's selector is a subset of them.
 */
import type { PyfleetResourcePolicy } from "./framework";
import { resourcePolicy } from "./framework";
import { SELECTOR_TYPES, WORKLOAD_TYPES, podOf } from "./pods";
import { message, type Resource } from "./resource";
import { asRecord, at, isUnknown } from "./values";
import { REQUIRED_APP_LABELS } from "./vocabulary";

/** K24: the app.kubernetes.io/* labels on the pods, and a selector that is a subset of them. */
export function checkLabels(resource: Resource): string[] {
  const pod = podOf(resource);
  if (!pod || isUnknown(pod.labels)) return [];
  const labels = asRecord(pod.labels) ?? {};
  const out: string[] = [];
  const missing = REQUIRED_APP_LABELS.filter((key) => labels[key] === undefined);
  if (missing.length > 0) {
    const problem = `${pod.labelsPath} lacks ${missing.join(", ")}`;
    const fix =
      "add the app.kubernetes.io/* labels (name, instance, component, part-of, managed-by)";
    out.push(message(resource, problem, fix, "K24"));
  }
  if (!SELECTOR_TYPES.includes(resource.type)) return out;
  const selector = asRecord(at(resource.props, "spec", "selector", "matchLabels")) ?? {};
  for (const [key, value] of Object.entries(selector)) {
    if (isUnknown(value) || isUnknown(labels[key]) || labels[key] === value) continue;
    const problem = `spec.selector.matchLabels ${key}=${String(value)} is not among ${pod.labelsPath}`;
    out.push(message(resource, problem, "make the selector a subset of the pod labels", "K24"));
  }
  return out;
}

/** The label policies. */
export const labelPolicies: PyfleetResourcePolicy[] = [
  resourcePolicy({
    name: "workload-labels",
    description:
      "Pod templates carry the app.kubernetes.io/* labels and the selector is a subset of them.",
    checklist: ["K24"],
    severity: "low",
    remediationSteps: "Add the app.kubernetes.io/* labels; select pods by a subset of them.",
    types: WORKLOAD_TYPES,
    check: checkLabels,
  }),
];

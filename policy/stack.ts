/**
 * Checks that need more than one object: a replicated workload without `spec.replicas` has an
 * HPA (K17), and every namespace with workloads has a default-deny ingress policy (C2). Stack
 * policies see outputs, which may lack fields during preview, so a missing field never proves a
 * violation here; only known values do.
 */
import type { PyfleetStackPolicy, StackFinding } from "./framework";
import { stackPolicy } from "./framework";
import { TYPES } from "./companions";
import { REPLICATED_TYPES, WORKLOAD_TYPES } from "./pods";
import { kindOf, message, type Resource } from "./resource";
import { asArray, asRecord, asString, at, isUnknown } from "./values";
import { environmentOf, environmentSchema, type EnvironmentConfig } from "./environment";
import { minimumReplicas } from "./vocabulary";

function namespaceOf(resource: Resource): unknown {
  return at(resource.props, "metadata", "namespace");
}

/**
 * K17 for autoscaled workloads: outside dev, a Deployment/StatefulSet/ReplicaSet that leaves
 * `spec.replicas` unset runs one pod unless an HPA in its namespace targets it.
 */
export function checkAutoscaledReplicas(
  resources: Resource[],
  config: EnvironmentConfig = {},
): StackFinding[] {
  const hpas = resources.filter((r) => (TYPES.hpa as readonly string[]).includes(r.type));
  const targets: { kind: string; name: string; namespace: unknown }[] = [];
  for (const hpa of hpas) {
    const ref = at(hpa.props, "spec", "scaleTargetRef");
    const kind = asString(at(ref, "kind"));
    const name = asString(at(ref, "name"));
    // An HPA whose target is unknown might target any workload: nothing can be proven.
    if (kind === undefined || name === undefined || isUnknown(namespaceOf(hpa))) return [];
    targets.push({ kind, name, namespace: namespaceOf(hpa) });
  }
  const findings: StackFinding[] = [];
  for (const workload of resources.filter((r) => REPLICATED_TYPES.includes(r.type))) {
    const environment = environmentOf(workload, config);
    // Without spec.replicas a workload runs one pod: a violation wherever one is too few.
    if (environment === undefined || minimumReplicas(environment) <= 1) continue;
    const spec = asRecord(at(workload.props, "spec"));
    if (!spec || "replicas" in spec) continue;
    const name = asString(at(workload.props, "metadata", "name"));
    const namespace = namespaceOf(workload);
    if (name === undefined || isUnknown(namespace)) continue;
    const kind = kindOf(workload.type);
    if (targets.some((t) => t.kind === kind && t.name === name && t.namespace === namespace)) {
      continue;
    }
    const problem = `spec.replicas is unset and no HorizontalPodAutoscaler targets it, so it runs one pod in ${environment}`;
    const fix = "set spec.replicas to at least 2 or add an HPA with minReplicas >= 2";
    findings.push({
      message: message(workload, problem, fix, "K17"),
      ...(workload.urn !== undefined ? { urn: workload.urn } : {}),
    });
  }
  return findings;
}

/**
 * Whether a NetworkPolicy selects every pod and admits no ingress: undefined when unknown
 * values leave it open.
 */
export function isDefaultDenyIngress(policy: Resource): boolean | undefined {
  const spec = at(policy.props, "spec");
  const selector = at(spec, "podSelector");
  const labels = at(selector, "matchLabels");
  const expressions = at(selector, "matchExpressions");
  const types = at(spec, "policyTypes");
  const ingress = at(spec, "ingress");
  if ([spec, selector, labels, expressions, types, ingress].some(isUnknown)) return undefined;
  if (asRecord(selector) === undefined) return false;
  if (Object.keys(asRecord(labels) ?? {}).length > 0) return false;
  if ((asArray(expressions) ?? []).length > 0) return false;
  if (types !== undefined && !(asArray(types) ?? []).includes("Ingress")) return false;
  return (asArray(ingress) ?? []).length === 0;
}

/** C2: every namespace that runs workloads has a default-deny ingress NetworkPolicy. */
export function checkDefaultDeny(resources: Resource[]): StackFinding[] {
  const policies = resources.filter((r) =>
    (TYPES.networkPolicy as readonly string[]).includes(r.type),
  );
  // A policy in an unknown namespace might be the default deny of any namespace.
  if (policies.some((p) => isUnknown(namespaceOf(p)))) return [];
  const covered = new Set(
    policies.filter((p) => isDefaultDenyIngress(p) !== false).map((p) => asString(namespaceOf(p))),
  );
  const findings: StackFinding[] = [];
  const seen = new Set<string>();
  for (const workload of resources.filter((r) => WORKLOAD_TYPES.includes(r.type))) {
    const namespace = asString(namespaceOf(workload));
    if (namespace === undefined || covered.has(namespace) || seen.has(namespace)) continue;
    seen.add(namespace);
    const home = resources.find(
      (r) =>
        (TYPES.namespace as readonly string[]).includes(r.type) &&
        at(r.props, "metadata", "name") === namespace,
    );
    const text =
      `Namespace "${namespace}": it runs ${kindOf(workload.type)} "${workload.name}" but has no ` +
      "default-deny ingress NetworkPolicy; add one (podSelector {}, policyTypes [Ingress], " +
      "no ingress rules) so every allowed path is an explicit policy (C2).";
    const urn = home?.urn ?? workload.urn;
    findings.push({ message: text, ...(urn !== undefined ? { urn } : {}) });
  }
  return findings;
}

/** The stack policies. */
export const stackPolicies: PyfleetStackPolicy[] = [
  stackPolicy<EnvironmentConfig>({
    name: "workload-replicas-autoscaled",
    description:
      "Outside dev, a workload without spec.replicas is owned by an HPA (else it runs one pod).",
    checklist: ["K17"],
    severity: "medium",
    remediationSteps: "Set spec.replicas >= 2 or add an HPA with minReplicas >= 2.",
    configSchema: environmentSchema,
    check: checkAutoscaledReplicas,
  }),
  stackPolicy({
    name: "namespace-default-deny",
    description: "Every namespace with workloads has a default-deny ingress NetworkPolicy.",
    checklist: ["C2"],
    severity: "high",
    remediationSteps: "Add a NetworkPolicy with podSelector {} and policyTypes [Ingress].",
    check: (resources) => checkDefaultDeny(resources),
  }),
];

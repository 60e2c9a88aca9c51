/**
 * Checks that hold for every Kubernetes object: Pulumi waits for it (K25) and it lives in an
 * application namespace (K26).
 */
import type { PyfleetResourcePolicy } from "./framework";
import { resourcePolicy } from "./framework";
import { message, show, type Resource } from "./resource";
import { asString, at, isUnknown } from "./values";
import { isSystemNamespace } from "./vocabulary";

/** Annotation that makes the Kubernetes provider skip its readiness wait. */
export const SKIP_AWAIT = "pulumi.com/skipAwait";

/** Kinds that have no namespace. */
export const CLUSTER_SCOPED_KINDS: readonly string[] = [
  "APIService",
  "CertificateSigningRequest",
  "ClusterRole",
  "ClusterRoleBinding",
  "ComponentStatus",
  "CSIDriver",
  "CSINode",
  "CustomResourceDefinition",
  "FlowSchema",
  "IngressClass",
  "MutatingWebhookConfiguration",
  "Namespace",
  "Node",
  "PersistentVolume",
  "PriorityClass",
  "PriorityLevelConfiguration",
  "RuntimeClass",
  "StorageClass",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  "ValidatingWebhookConfiguration",
  "VolumeAttachment",
];

const KUBERNETES_OBJECT = /^kubernetes:([a-z0-9.-]+)\/v[a-z0-9]+:([A-Za-z]+)$/;
/** Groups of the provider's component resources (Helm, YAML, Kustomize), which are not objects. */
const COMPONENT_GROUPS = ["helm.sh", "yaml", "kustomize"];

/** The object kind of a Kubernetes resource type (`kubernetes:apps/v1:Deployment`), else undefined. */
export function kubernetesKind(type: string): string | undefined {
  const match = KUBERNETES_OBJECT.exec(type);
  if (!match || COMPONENT_GROUPS.includes(match[1] ?? "") || match[2]?.endsWith("List")) {
    return undefined;
  }
  return match[2];
}

/** K25: no `pulumi.com/skipAwait` annotation. */
export function checkSkipAwait(resource: Resource): string[] {
  const value = at(resource.props, "metadata", "annotations", SKIP_AWAIT);
  if (value === undefined || value === "false" || isUnknown(value)) return [];
  const problem = `metadata.annotations["${SKIP_AWAIT}"] is ${show(value)}, so pulumi up does not wait for it to become ready`;
  return [message(resource, problem, "remove the annotation", "K25")];
}

/** K26: the object is not placed in (and does not manage) `default` or `kube-system`. */
export function checkNamespace(resource: Resource): string[] {
  const kind = kubernetesKind(resource.type);
  if (kind === undefined) return [];
  const fix = "deploy into the app's own namespace (pyfleet:namespace)";
  if (kind === "Namespace") {
    const name = asString(at(resource.props, "metadata", "name"));
    if (name === undefined || !isSystemNamespace(name)) return [];
    return [message(resource, `manages the "${name}" namespace`, fix, "K26")];
  }
  if (CLUSTER_SCOPED_KINDS.includes(kind.replace(/Patch$/, ""))) return [];
  const namespace = at(resource.props, "metadata", "namespace");
  if (isUnknown(namespace)) return [];
  if (typeof namespace === "string") {
    if (!isSystemNamespace(namespace)) return [];
    return [message(resource, `metadata.namespace is "${namespace}"`, fix, "K26")];
  }
  // Unset: the provider's namespace decides, and only a known system one proves a violation.
  const fallback = asString(resource.provider?.props["namespace"]);
  if (fallback === undefined || !isSystemNamespace(fallback)) return [];
  const problem = `metadata.namespace is unset and the provider's namespace is "${fallback}"`;
  return [message(resource, problem, fix, "K26")];
}

/** The policies for every Kubernetes object. */
export const clusterPolicies: PyfleetResourcePolicy[] = [
  resourcePolicy({
    name: "no-skip-await",
    description: "Kubernetes objects never carry the pulumi.com/skipAwait annotation.",
    checklist: ["K25"],
    severity: "medium",
    remediationSteps: "Remove pulumi.com/skipAwait so a failed rollout fails pulumi up.",
    types: (type) => kubernetesKind(type) !== undefined,
    check: checkSkipAwait,
  }),
  resourcePolicy({
    name: "namespace-not-system",
    description: "Objects never go into the default or kube-system namespace.",
    checklist: ["K26"],
    severity: "medium",
    remediationSteps: "Set metadata.namespace to the app's own namespace.",
    types: (type) => kubernetesKind(type) !== undefined,
    check: checkNamespace,
  }),
];

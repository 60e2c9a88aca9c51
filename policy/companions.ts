/**
 * Checks of the objects around a workload (C1-C7 of CHECKLIST.md), each judged on the object
 * alone: PodDisruptionBudget, NetworkPolicy, Namespace, Service, Ingress, HPA and ConfigMap.
 */
import type { PyfleetResourcePolicy } from "./framework";
import { resourcePolicy } from "./framework";
import { message, show, type Resource } from "./resource";
import { asArray, asRecord, asString, at, isUnknown } from "./values";
import {
  HPA_MIN_REPLICAS,
  POD_SECURITY_ENFORCE_LABEL,
  POD_SECURITY_LEVEL,
  looksLikeSecret,
} from "./vocabulary";

/** Type tokens of the companion objects. */
export const TYPES = {
  pdb: [
    "kubernetes:policy/v1:PodDisruptionBudget",
    "kubernetes:policy/v1beta1:PodDisruptionBudget",
  ],
  networkPolicy: ["kubernetes:networking.k8s.io/v1:NetworkPolicy"],
  namespace: ["kubernetes:core/v1:Namespace"],
  service: ["kubernetes:core/v1:Service"],
  ingress: ["kubernetes:networking.k8s.io/v1:Ingress"],
  hpa: [
    "kubernetes:autoscaling/v1:HorizontalPodAutoscaler",
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    "kubernetes:autoscaling/v2beta1:HorizontalPodAutoscaler",
    "kubernetes:autoscaling/v2beta2:HorizontalPodAutoscaler",
  ],
  configMap: ["kubernetes:core/v1:ConfigMap"],
} as const;

const OPEN_CIDRS = ["0.0.0.0/0", "::/0"];

/** True when a label selector is known to be empty (selects everything). */
function isEmptySelector(selector: unknown): boolean {
  const record = asRecord(selector);
  if (!record) return false;
  const labels = record["matchLabels"];
  const expressions = record["matchExpressions"];
  if (isUnknown(labels) || isUnknown(expressions)) return false;
  return (
    Object.keys(asRecord(labels) ?? {}).length === 0 && (asArray(expressions) ?? []).length === 0
  );
}

function isZero(value: unknown): boolean {
  return value === 0 || value === "0%" || value === "0";
}

/** C1: a PDB selects pods and never allows zero voluntary disruptions. */
export function checkPodDisruptionBudget(resource: Resource): string[] {
  const spec = at(resource.props, "spec");
  if (isUnknown(spec)) return [];
  const out: string[] = [];
  const fix = "allow at least one disruption (e.g. maxUnavailable: 1)";
  const maxUnavailable = at(spec, "maxUnavailable");
  if (isZero(maxUnavailable)) {
    const problem = `spec.maxUnavailable is ${show(maxUnavailable)}, so no pod may ever be evicted and node drains hang`;
    out.push(message(resource, problem, fix, "C1"));
  }
  const minAvailable = at(spec, "minAvailable");
  if (minAvailable === "100%") {
    const problem =
      'spec.minAvailable is "100%", so no pod may ever be evicted and node drains hang';
    out.push(message(resource, problem, fix, "C1"));
  }
  const selector = at(spec, "selector");
  if (selector === undefined || isEmptySelector(selector)) {
    const problem = "spec.selector is empty, so the budget covers every pod in the namespace";
    out.push(message(resource, problem, "select the app's pods by its selector labels", "C1"));
  }
  return out;
}

/** C2: ingress rules admit named peers only (no rule without `from`, no open CIDR or namespace). */
export function checkNetworkPolicy(resource: Resource): string[] {
  const ingress = at(resource.props, "spec", "ingress");
  const out: string[] = [];
  (asArray(ingress) ?? []).forEach((rule, i) => {
    if (isUnknown(rule)) return;
    const from = at(rule, "from");
    if (isUnknown(from)) return;
    const peers = asArray(from) ?? [];
    if (peers.length === 0) {
      const problem = `spec.ingress[${i}] has no from, so it admits traffic from everywhere`;
      const fix = "list the allowed peers (the ingress controller, declared namespaces) in from";
      out.push(message(resource, problem, fix, "C2"));
      return;
    }
    peers.forEach((peer, j) => {
      const cidr = asString(at(peer, "ipBlock", "cidr"));
      if (cidr !== undefined && OPEN_CIDRS.includes(cidr)) {
        const problem = `spec.ingress[${i}].from[${j}].ipBlock admits ${cidr}`;
        out.push(message(resource, problem, "allow the specific peers instead", "C2"));
      }
      if (isEmptySelector(at(peer, "namespaceSelector"))) {
        const problem = `spec.ingress[${i}].from[${j}].namespaceSelector is empty and matches every namespace`;
        const fix = "match the peer namespace by its kubernetes.io/metadata.name label";
        out.push(message(resource, problem, fix, "C2"));
      }
    });
  });
  return out;
}

/** C3: the namespace enforces the restricted Pod Security Standard. */
export function checkNamespacePodSecurity(resource: Resource): string[] {
  const labels = at(resource.props, "metadata", "labels");
  if (isUnknown(labels)) return [];
  const level = asRecord(labels)?.[POD_SECURITY_ENFORCE_LABEL];
  if (level === POD_SECURITY_LEVEL || isUnknown(level)) return [];
  const problem =
    level === undefined
      ? `metadata.labels lacks ${POD_SECURITY_ENFORCE_LABEL}`
      : `metadata.labels["${POD_SECURITY_ENFORCE_LABEL}"] is ${show(level)}`;
  return [
    message(
      resource,
      problem,
      `set ${POD_SECURITY_ENFORCE_LABEL} to "${POD_SECURITY_LEVEL}"`,
      "C3",
    ),
  ];
}

/** C4: Services stay inside the cluster (ClusterIP); the Ingress is the way in. */
export function checkServiceType(resource: Resource): string[] {
  const type = at(resource.props, "spec", "type");
  if (type !== "NodePort" && type !== "LoadBalancer") return [];
  const fix = 'use "ClusterIP" and expose the app through its Ingress';
  return [message(resource, `spec.type is ${show(type)}`, fix, "C4")];
}

function coveredBy(host: string, tlsHost: string): boolean {
  if (tlsHost === host) return true;
  if (!tlsHost.startsWith("*.")) return false;
  const suffix = tlsHost.slice(1);
  return host.endsWith(suffix) && !host.slice(0, -suffix.length).includes(".");
}

/** True for hosts that never leave the machine (`*.localhost`). */
export function isLocalHost(host: string): boolean {
  return host === "localhost" || host.endsWith(".localhost");
}

/** C5: an ingressClassName, and TLS for every host that is not `*.localhost`. */
export function checkIngress(resource: Resource): string[] {
  const spec = at(resource.props, "spec");
  if (isUnknown(spec)) return [];
  const out: string[] = [];
  const className = at(spec, "ingressClassName");
  if (className === undefined || className === "") {
    const fix = 'set it to the cluster\'s controller class (k3s: "traefik")';
    out.push(message(resource, "spec.ingressClassName is unset", fix, "C5"));
  }
  const tls = at(spec, "tls");
  if (isUnknown(tls)) return out;
  const tlsHosts: string[] = [];
  for (const entry of asArray(tls) ?? []) {
    const hosts = at(entry, "hosts");
    if (isUnknown(hosts) || (asArray(hosts) ?? []).some(isUnknown)) return out;
    for (const host of asArray(hosts) ?? []) if (typeof host === "string") tlsHosts.push(host);
  }
  (asArray(at(spec, "rules")) ?? []).forEach((rule, i) => {
    const host = asString(at(rule, "host"));
    if (host === undefined || isLocalHost(host)) return;
    if (tlsHosts.some((h) => coveredBy(host, h))) return;
    const problem = `spec.rules[${i}].host "${host}" is served without TLS (no spec.tls entry lists it)`;
    const fix = "add it to spec.tls with a certificate secret or a cert-manager issuer";
    out.push(message(resource, problem, fix, "C5"));
  });
  return out;
}

/** C6: an HPA keeps at least two replicas. */
export function checkHpaMinReplicas(resource: Resource): string[] {
  const minReplicas = at(resource.props, "spec", "minReplicas");
  if (isUnknown(minReplicas) || at(resource.props, "spec") === undefined) return [];
  if (typeof minReplicas === "number" && minReplicas >= HPA_MIN_REPLICAS) return [];
  const problem =
    minReplicas === undefined
      ? "spec.minReplicas is unset (it defaults to 1)"
      : `spec.minReplicas is ${show(minReplicas)}`;
  return [message(resource, problem, `set it to at least ${HPA_MIN_REPLICAS}`, "C6")];
}

/** C7: no secret-looking keys in ConfigMaps. */
export function checkConfigMapKeys(resource: Resource): string[] {
  return (["data", "binaryData"] as const).flatMap((field) =>
    Object.keys(asRecord(resource.props[field]) ?? {})
      .filter(looksLikeSecret)
      .map((key) =>
        message(
          resource,
          `${field}.${key} looks like a secret`,
          "move it to a Secret and reference it with envFrom.secretRef or valueFrom.secretKeyRef",
          "C7",
        ),
      ),
  );
}

/** The companion-object policies. */
export const companionPolicies: PyfleetResourcePolicy[] = [
  resourcePolicy({
    name: "pdb-disruptions",
    description: "PodDisruptionBudgets select pods and never allow zero disruptions.",
    checklist: ["C1"],
    severity: "medium",
    remediationSteps: "Use maxUnavailable: 1 and the app's selector labels.",
    types: TYPES.pdb,
    check: checkPodDisruptionBudget,
  }),
  resourcePolicy({
    name: "network-policy-peers",
    description: "NetworkPolicy ingress rules admit named peers only.",
    checklist: ["C2"],
    severity: "high",
    remediationSteps: "Give every ingress rule a from list of specific peers.",
    types: TYPES.networkPolicy,
    check: checkNetworkPolicy,
  }),
  resourcePolicy({
    name: "namespace-pod-security",
    description: "Namespaces enforce the restricted Pod Security Standard.",
    checklist: ["C3"],
    severity: "high",
    remediationSteps: "Label the namespace pod-security.kubernetes.io/enforce=restricted.",
    types: TYPES.namespace,
    check: checkNamespacePodSecurity,
  }),
  resourcePolicy({
    name: "service-cluster-ip",
    description: "Services are ClusterIP; apps are reached through their Ingress.",
    checklist: ["C4"],
    severity: "high",
    remediationSteps: 'Set spec.type to "ClusterIP" (or leave it unset).',
    types: TYPES.service,
    check: checkServiceType,
  }),
  resourcePolicy({
    name: "ingress-class-tls",
    description: "Ingresses name their class and serve every non-localhost host over TLS.",
    checklist: ["C5"],
    severity: "high",
    remediationSteps: "Set spec.ingressClassName and list every public host in spec.tls.",
    types: TYPES.ingress,
    check: checkIngress,
  }),
  resourcePolicy({
    name: "hpa-min-replicas",
    description: "HorizontalPodAutoscalers keep at least two replicas.",
    checklist: ["C6"],
    severity: "medium",
    remediationSteps: "Set spec.minReplicas to 2 or more.",
    types: TYPES.hpa,
    check: checkHpaMinReplicas,
  }),
  resourcePolicy({
    name: "configmap-secret-keys",
    description: "ConfigMaps hold no secret-looking keys.",
    checklist: ["C7"],
    severity: "high",
    remediationSteps: "Move secret values to Secrets.",
    types: TYPES.configMap,
    check: checkConfigMapKeys,
  }),
];

/**
 * Where the pod template sits in each workload kind, and the containers in it.
 */
import type { Resource } from "./resource";
import { asArray, asRecord, asString, at } from "./values";

/** What the policies need to know about one workload kind. */
export interface WorkloadKind {
  /** Path from the object to its pod template (`metadata` + `spec`); empty for a Pod. */
  template: readonly string[];
  /** Runs until stopped, so probes, rollouts and shutdown apply. */
  longRunning: boolean;
  /** Has `spec.replicas`. */
  replicated: boolean;
  /** Has `spec.selector`. */
  selector: boolean;
}

/** Workload kinds by type token. */
export const WORKLOADS: Readonly<Record<string, WorkloadKind>> = {
  "kubernetes:apps/v1:Deployment": {
    template: ["spec", "template"],
    longRunning: true,
    replicated: true,
    selector: true,
  },
  "kubernetes:apps/v1:StatefulSet": {
    template: ["spec", "template"],
    longRunning: true,
    replicated: true,
    selector: true,
  },
  "kubernetes:apps/v1:ReplicaSet": {
    template: ["spec", "template"],
    longRunning: true,
    replicated: true,
    selector: true,
  },
  "kubernetes:apps/v1:DaemonSet": {
    template: ["spec", "template"],
    longRunning: true,
    replicated: false,
    selector: true,
  },
  "kubernetes:batch/v1:Job": {
    template: ["spec", "template"],
    longRunning: false,
    replicated: false,
    selector: false,
  },
  "kubernetes:batch/v1:CronJob": {
    template: ["spec", "jobTemplate", "spec", "template"],
    longRunning: false,
    replicated: false,
    selector: false,
  },
  "kubernetes:core/v1:Pod": {
    template: [],
    longRunning: false,
    replicated: false,
    selector: false,
  },
};

/** Every workload type token. */
export const WORKLOAD_TYPES: readonly string[] = Object.keys(WORKLOADS);
/** Workload types whose pods run until stopped. */
export const LONG_RUNNING_TYPES: readonly string[] = WORKLOAD_TYPES.filter(
  (t) => WORKLOADS[t]?.longRunning,
);
/** Workload types with `spec.replicas`. */
export const REPLICATED_TYPES: readonly string[] = WORKLOAD_TYPES.filter(
  (t) => WORKLOADS[t]?.replicated,
);
/** Workload types with `spec.selector`. */
export const SELECTOR_TYPES: readonly string[] = WORKLOAD_TYPES.filter(
  (t) => WORKLOADS[t]?.selector,
);

/** The pod template of a workload. */
export interface Pod {
  /** The workload's kind. */
  workload: WorkloadKind;
  /** Field path of the pod spec, e.g. `spec.template.spec`. */
  specPath: string;
  /** Field path of the pod labels, e.g. `spec.template.metadata.labels`. */
  labelsPath: string;
  /** The pod spec; undefined when it is unknown or missing. */
  spec: Record<string, unknown> | undefined;
  /** The pod labels: a map, `UNKNOWN`, or undefined. */
  labels: unknown;
}

/** The pod template of `resource`, when it is a workload. */
export function podOf(resource: Resource): Pod | undefined {
  const workload = WORKLOADS[resource.type];
  if (!workload) return undefined;
  const prefix = workload.template.length > 0 ? `${workload.template.join(".")}.` : "";
  return {
    workload,
    specPath: `${prefix}spec`,
    labelsPath: `${prefix}metadata.labels`,
    spec: asRecord(at(resource.props, ...workload.template, "spec")),
    labels: at(resource.props, ...workload.template, "metadata", "labels"),
  };
}

/** One container of a pod, with the words that name it in messages. */
export interface Container {
  /** The container spec. */
  spec: Record<string, unknown>;
  /** `container "api"` or `init container "migrate"`. */
  label: string;
  /** Whether it is an init container. */
  init: boolean;
}

/** The known containers of a pod (init containers too unless `includeInit` is false). */
export function containersOf(pod: Pod, includeInit = true): Container[] {
  const out: Container[] = [];
  const groups: [string, boolean][] = includeInit
    ? [
        ["initContainers", true],
        ["containers", false],
      ]
    : [["containers", false]];
  for (const [field, init] of groups) {
    const list = asArray(pod.spec?.[field]) ?? [];
    list.forEach((item, index) => {
      const spec = asRecord(item);
      if (!spec) return;
      const name = asString(spec["name"]);
      const what = init ? "init container" : "container";
      out.push({
        spec,
        label: name !== undefined ? `${what} "${name}"` : `${what} #${index + 1}`,
        init,
      });
    });
  }
  return out;
}

/** A securityContext field as it applies to a container, and where it was set. */
export interface Effective {
  /** The deciding value: the container's, else the pod's; `UNKNOWN` when that is unknown. */
  value: unknown;
  /** Field path of the deciding value, for messages. */
  path: string;
}

/** The container's securityContext value for `field`, else the pod's. */
export function effectiveSecurity(pod: Pod, container: Container, field: string): Effective {
  const own = at(container.spec, "securityContext", field);
  if (own !== undefined) return { value: own, path: `securityContext.${field}` };
  return {
    value: at(pod.spec, "securityContext", field),
    path: `${pod.specPath}.securityContext.${field}`,
  };
}

/** A check of one container of a workload's pod. */
export type ContainerCheck = (resource: Resource, pod: Pod, container: Container) => string[];

/** Runs `check` on every container of the workload's pod (init containers unless excluded). */
export function eachContainer(
  resource: Resource,
  check: ContainerCheck,
  includeInit = true,
): string[] {
  const pod = podOf(resource);
  if (!pod) return [];
  return containersOf(pod, includeInit).flatMap((c) => check(resource, pod, c));
}

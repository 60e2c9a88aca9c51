/**
 * Rollout checks (K17-K21, K25 of CHECKLIST.md): enough replicas outside dev, a rolling update
 * that never takes a ready pod away, rollout timing Pulumi can wait for, a graceful drain on
 * shutdown, and replicas spread across nodes.
 */
import type { PyfleetResourcePolicy } from "./framework";
import { resourcePolicy } from "./framework";
import { environmentOf, environmentSchema, type EnvironmentConfig } from "./environment";
import { LONG_RUNNING_TYPES, REPLICATED_TYPES, eachContainer, podOf } from "./pods";
import { message, show, type Resource } from "./resource";
import { asArray, asNumber, asRecord, asString, at, isUnknown } from "./values";
import {
  DEFAULT_PROGRESS_DEADLINE_SECONDS,
  DEFAULT_TERMINATION_GRACE_SECONDS,
  HPA_MIN_REPLICAS,
  MIN_SURGE,
  ROLLING_UPDATE,
  deadlineBelowAwait,
  deadlineCoversMinReady,
  graceCoversDrain,
  minReadyCounts,
  minimumReplicas,
} from "./vocabulary";

/** K17: at least two replicas outside dev (unset replicas are judged by the stack policy). */
export function checkReplicas(resource: Resource, config: EnvironmentConfig = {}): string[] {
  const environment = environmentOf(resource, config);
  if (environment === undefined) return [];
  const minimum = minimumReplicas(environment);
  const replicas = asNumber(at(resource.props, "spec", "replicas"));
  if (minimum === 0 || replicas === undefined || replicas >= minimum) return [];
  const problem = `spec.replicas is ${replicas} in ${environment}`;
  const fix =
    `set it to at least ${minimum} (or leave it to an HPA with minReplicas >= ${HPA_MIN_REPLICAS}) so a restart or a ` +
    "node drain never leaves the app without a ready pod";
  return [message(resource, problem, fix, "K17")];
}

function percentOrNumber(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  const text = asString(value);
  const match = text === undefined ? null : /^(\d+)%$/.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** K18: RollingUpdate with maxUnavailable 0 and maxSurge >= 1. */
export function checkRollingUpdate(resource: Resource): string[] {
  const strategy = at(resource.props, "spec", "strategy");
  if (isUnknown(strategy)) return [];
  const type = at(strategy, "type");
  if (type !== undefined && type !== "RollingUpdate") {
    if (isUnknown(type)) return [];
    const fix = 'use "RollingUpdate" with maxUnavailable 0 and maxSurge 1';
    return [message(resource, `spec.strategy.type is ${show(type)}`, fix, "K18")];
  }
  const out: string[] = [];
  const maxUnavailable = at(strategy, "rollingUpdate", "maxUnavailable");
  if (maxUnavailable === undefined) {
    const problem = "spec.strategy.rollingUpdate.maxUnavailable is unset (it defaults to 25%)";
    out.push(message(resource, problem, "set it to 0", "K18"));
  } else if (
    !isUnknown(maxUnavailable) &&
    percentOrNumber(maxUnavailable) !== ROLLING_UPDATE.maxUnavailable
  ) {
    const problem = `spec.strategy.rollingUpdate.maxUnavailable is ${show(maxUnavailable)}`;
    out.push(message(resource, problem, `set it to ${ROLLING_UPDATE.maxUnavailable}`, "K18"));
  }
  const maxSurge = at(strategy, "rollingUpdate", "maxSurge");
  const surge = percentOrNumber(maxSurge);
  if (surge !== undefined && surge < MIN_SURGE) {
    const problem = `spec.strategy.rollingUpdate.maxSurge is ${show(maxSurge)}`;
    out.push(message(resource, problem, `set it to ${MIN_SURGE} or more`, "K18"));
  }
  return out;
}

/** K19: minReadySeconds > 0; progressDeadlineSeconds set and above minReadySeconds. */
export function checkRolloutTiming(resource: Resource): string[] {
  const out: string[] = [];
  const spec = at(resource.props, "spec");
  if (isUnknown(spec)) return [];
  const minReady = at(spec, "minReadySeconds");
  if (minReady === undefined || (typeof minReady === "number" && !minReadyCounts(minReady))) {
    const problem = `spec.minReadySeconds is ${String(minReady ?? "unset (0)")}`;
    const fix = "set it above 0 so a new pod must stay ready before it counts as available";
    out.push(message(resource, problem, fix, "K19"));
  }
  if (resource.type !== "kubernetes:apps/v1:Deployment") return out;
  const deadline = at(spec, "progressDeadlineSeconds");
  if (deadline === undefined) {
    const problem = "spec.progressDeadlineSeconds is unset (it defaults to 600)";
    const fix = "set it, below the Pulumi await timeout (customTimeouts)";
    out.push(message(resource, problem, fix, "K19"));
  } else if (
    typeof deadline === "number" &&
    typeof minReady === "number" &&
    !deadlineCoversMinReady(deadline, minReady)
  ) {
    const problem = `spec.progressDeadlineSeconds (${deadline}) is not above spec.minReadySeconds (${minReady})`;
    out.push(message(resource, problem, "raise it", "K19"));
  }
  return out;
}

/** Workload types Pulumi waits for. */
export const AWAITED_TYPES: readonly string[] = [
  "kubernetes:apps/v1:Deployment",
  "kubernetes:apps/v1:StatefulSet",
  "kubernetes:apps/v1:DaemonSet",
  "kubernetes:batch/v1:Job",
];

/**
 * K25 and K19: customTimeouts on awaited workloads, and a Deployment progress deadline below
 * them. Needs the resource options (always present under the engine; absent means not judged).
 */
export function checkAwaitTimeouts(resource: Resource): string[] {
  const timeouts = resource.opts?.customTimeouts;
  if (!timeouts) return [];
  const out: string[] = [];
  for (const op of ["create", "update"] as const) {
    const seconds = timeouts[`${op}Seconds`];
    if (seconds > 0) continue;
    const problem = `customTimeouts.${op} is unset, so pulumi up waits the provider default (10 minutes) for a failing rollout`;
    const fix = "set customTimeouts.create and .update a little above spec.progressDeadlineSeconds";
    out.push(message(resource, problem, fix, "K25"));
  }
  if (resource.type !== "kubernetes:apps/v1:Deployment") return out;
  const deadline =
    at(resource.props, "spec", "progressDeadlineSeconds") ?? DEFAULT_PROGRESS_DEADLINE_SECONDS;
  if (typeof deadline !== "number") return out;
  for (const op of ["create", "update"] as const) {
    const seconds = timeouts[`${op}Seconds`];
    if (seconds <= 0 || deadlineBelowAwait(deadline, seconds)) continue;
    const problem = `spec.progressDeadlineSeconds (${deadline}) is not below customTimeouts.${op} (${seconds}s)`;
    const fix =
      "lower the deadline or raise the timeout so Kubernetes reports a stalled rollout first";
    out.push(message(resource, problem, fix, "K19"));
  }
  return out;
}

/** K20: a preStop drain delay on every app container, and a grace period longer than it. */
export function checkGracefulShutdown(resource: Resource): string[] {
  return eachContainer(
    resource,
    (r, pod, c) => {
      const preStop = at(c.spec, "lifecycle", "preStop");
      if (isUnknown(preStop)) return [];
      if (preStop === undefined) {
        const problem = `${c.label} has no lifecycle.preStop`;
        const fix = "add a preStop sleep so endpoints and the ingress stop routing before SIGTERM";
        return [message(r, problem, fix, "K20")];
      }
      const drain = drainSeconds(preStop);
      const grace =
        pod.spec?.["terminationGracePeriodSeconds"] ?? DEFAULT_TERMINATION_GRACE_SECONDS;
      if (drain === undefined || typeof grace !== "number" || graceCoversDrain(grace, drain)) {
        return [];
      }
      const problem =
        `${pod.specPath}.terminationGracePeriodSeconds (${grace}) is not above the preStop ` +
        `drain of ${c.label} (${drain}s)`;
      const fix = "raise it above the drain delay plus the app's shutdown time";
      return [message(r, problem, fix, "K20")];
    },
    false,
  );
}

/** Seconds a preStop hook sleeps: `sleep.seconds` or an exec `sleep N`. */
export function drainSeconds(preStop: unknown): number | undefined {
  const seconds = asNumber(at(preStop, "sleep", "seconds"));
  if (seconds !== undefined) return seconds;
  const command = asArray(at(preStop, "exec", "command"));
  if (!command || command.some(isUnknown)) return undefined;
  const match = /(?:^|\s)sleep\s+(\d+(?:\.\d+)?)/.exec(command.map(String).join(" "));
  return match ? Number(match[1]) : undefined;
}

/** K21: with more than one replica, spread across nodes (hostname, ScheduleAnyway). */
export function checkTopologySpread(resource: Resource): string[] {
  const replicas = asNumber(at(resource.props, "spec", "replicas"));
  const pod = podOf(resource);
  if (replicas === undefined || replicas <= 1 || !pod?.spec) return [];
  const constraints = pod.spec["topologySpreadConstraints"];
  if (isUnknown(constraints)) return [];
  const list = asArray(constraints) ?? [];
  if (list.some((c) => isUnknown(c) || isUnknown(at(c, "topologyKey")))) return [];
  const field = `${pod.specPath}.topologySpreadConstraints`;
  const hostname = list.find((c) => at(c, "topologyKey") === "kubernetes.io/hostname");
  if (hostname === undefined) {
    const problem = `spec.replicas is ${replicas} but ${field} has no kubernetes.io/hostname constraint`;
    const fix = 'add one with whenUnsatisfiable "ScheduleAnyway" selecting the pod labels';
    return [message(resource, problem, fix, "K21")];
  }
  const out: string[] = [];
  const when = at(hostname, "whenUnsatisfiable");
  if (!isUnknown(when) && when !== "ScheduleAnyway") {
    const problem = `the kubernetes.io/hostname constraint in ${field} sets whenUnsatisfiable to ${show(when ?? null)}`;
    const fix = 'set it to "ScheduleAnyway" so a single node can still run every replica';
    out.push(message(resource, problem, fix, "K21"));
  }
  const labels = asRecord(pod.labels);
  const selector = at(hostname, "labelSelector", "matchLabels");
  if (labels && asRecord(selector)) {
    const missing = Object.entries(asRecord(selector) ?? {}).filter(
      ([k, v]) => !isUnknown(v) && !isUnknown(labels[k]) && labels[k] !== v,
    );
    if (missing.length > 0) {
      const problem = `the kubernetes.io/hostname constraint in ${field} selects ${missing
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(", ")}, which the pods do not carry`;
      out.push(message(resource, problem, "select the workload's own pod labels", "K21"));
    }
  }
  return out;
}

/** The rollout policies. */
export const rolloutPolicies: PyfleetResourcePolicy[] = [
  resourcePolicy<EnvironmentConfig>({
    name: "workload-replicas",
    description: "Workloads run at least two replicas in staging and prod.",
    checklist: ["K17"],
    severity: "medium",
    remediationSteps: "Set spec.replicas >= 2, or let an HPA with minReplicas >= 2 own it.",
    types: REPLICATED_TYPES,
    configSchema: environmentSchema,
    check: checkReplicas,
  }),
  resourcePolicy({
    name: "workload-rolling-update",
    description: "Deployments roll out with RollingUpdate, maxUnavailable 0 and maxSurge >= 1.",
    checklist: ["K18"],
    severity: "medium",
    remediationSteps: "Set spec.strategy.rollingUpdate to { maxUnavailable: 0, maxSurge: 1 }.",
    types: ["kubernetes:apps/v1:Deployment"],
    check: checkRollingUpdate,
  }),
  resourcePolicy({
    name: "workload-rollout-timing",
    description:
      "Workloads set minReadySeconds > 0; Deployments set progressDeadlineSeconds above it.",
    checklist: ["K19"],
    severity: "low",
    remediationSteps: "Set spec.minReadySeconds and spec.progressDeadlineSeconds.",
    types: [
      "kubernetes:apps/v1:Deployment",
      "kubernetes:apps/v1:StatefulSet",
      "kubernetes:apps/v1:DaemonSet",
    ],
    check: checkRolloutTiming,
  }),
  resourcePolicy({
    name: "workload-await-timeouts",
    description:
      "Awaited workloads set customTimeouts, and a Deployment's progress deadline is below them.",
    checklist: ["K25", "K19"],
    severity: "low",
    remediationSteps:
      "Pass customTimeouts { create, update } a little above spec.progressDeadlineSeconds.",
    types: AWAITED_TYPES,
    check: checkAwaitTimeouts,
  }),
  resourcePolicy({
    name: "workload-graceful-shutdown",
    description:
      "App containers drain in a preStop hook, and the grace period is longer than the drain.",
    checklist: ["K20"],
    severity: "low",
    remediationSteps: "Add lifecycle.preStop sleep N and terminationGracePeriodSeconds > N.",
    types: LONG_RUNNING_TYPES,
    check: checkGracefulShutdown,
  }),
  resourcePolicy({
    name: "workload-topology-spread",
    description:
      "Workloads with more than one replica spread across nodes (hostname, ScheduleAnyway).",
    checklist: ["K21"],
    severity: "low",
    remediationSteps:
      "Add a topologySpreadConstraint on kubernetes.io/hostname with ScheduleAnyway.",
    types: REPLICATED_TYPES,
    check: checkTopologySpread,
  }),
];

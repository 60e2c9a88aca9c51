/**
 * Pod and workload checks (K1-K11, K14-K25 of CHECKLIST.md) over the pod templates of
 * Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs and bare Pods. Each check is
 * a pure function from a {@link Resource} to messages; unknown values never fail a check.
 */
import type { PolicyConfigSchema } from "@pulumi/policy";
import type { PyfleetResourcePolicy } from "./framework";
import { resourcePolicy } from "./framework";
import {
  LONG_RUNNING_TYPES,
  REPLICATED_TYPES,
  SELECTOR_TYPES,
  WORKLOAD_TYPES,
  containersOf,
  effectiveSecurity,
  podOf,
  type Container,
  type Pod,
} from "./pods";
import { labelsOf, message, show, type Resource } from "./resource";
import { asArray, asNumber, asRecord, asString, at, isUnknown } from "./values";

/** Names of env vars, ConfigMap keys and build args that look like they hold a secret. */
export const SECRET_LIKE = /pass(word)?|secret|token|credential|api[_-]?key|private/i;

/** The app.kubernetes.io/* labels every pod template carries (K24). */
export const REQUIRED_LABELS: readonly string[] = [
  "app.kubernetes.io/name",
  "app.kubernetes.io/instance",
  "app.kubernetes.io/component",
  "app.kubernetes.io/part-of",
  "app.kubernetes.io/managed-by",
];

/** Volume types a restricted pod may use (K8); hostPath is reported by K7. */
export const ALLOWED_VOLUME_TYPES: readonly string[] = [
  "configMap",
  "secret",
  "emptyDir",
  "projected",
  "downwardAPI",
  "persistentVolumeClaim",
  "ephemeral",
  "csi",
];

/** Env vars naming a directory the app writes (caches, home): they need a writable volume. */
export const WRITABLE_DIR_ENV: readonly string[] = [
  "HOME",
  "XDG_CACHE_HOME",
  "NUMBA_CACHE_DIR",
  "MPLCONFIGDIR",
  "CONDA_PKGS_DIRS",
  "HF_HOME",
  "TORCH_HOME",
];

/** Label carrying the environment on pyfleet objects. */
export const ENVIRONMENT_LABEL = "pyfleet.dev/environment";

/** Configuration of the replica policies. */
export interface EnvironmentConfig {
  /** The stack's environment; when unset, the object's `pyfleet.dev/environment` label. */
  environment?: "dev" | "staging" | "prod";
}

/** Configuration of {@link checkResources}. */
export interface ResourcesConfig {
  /** Whether a CPU limit is required too. @default false */
  requireCpuLimit?: boolean;
}

/** Configuration of {@link checkStartupProbe}. */
export interface StartupConfig {
  /** Seconds the startup probe must allow at least. @default 60 */
  minStartupSeconds?: number;
}

type ContainerCheck = (resource: Resource, pod: Pod, container: Container) => string[];

function eachContainer(resource: Resource, check: ContainerCheck, includeInit = true): string[] {
  const pod = podOf(resource);
  if (!pod) return [];
  return containersOf(pod, includeInit).flatMap((c) => check(resource, pod, c));
}

const QUANTITY = /^((?:\d+(?:\.\d+)?|\.\d+)(?:e\d+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const FACTORS: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes quantity (`250m`, `1`, `512Mi`) as a number, when it parses. */
export function quantity(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  const text = asString(value);
  const match = text === undefined ? null : QUANTITY.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * (FACTORS[match[2] ?? ""] ?? NaN);
}

/** K1: no privileged container. */
export function checkPrivileged(resource: Resource): string[] {
  return eachContainer(resource, (r, _pod, c) =>
    at(c.spec, "securityContext", "privileged") === true
      ? [message(r, `${c.label} sets securityContext.privileged to true`, "remove it", "K1")]
      : [],
  );
}

/** K2: `allowPrivilegeEscalation: false` on every container. */
export function checkPrivilegeEscalation(resource: Resource): string[] {
  return eachContainer(resource, (r, _pod, c) => {
    const value = at(c.spec, "securityContext", "allowPrivilegeEscalation");
    if (value === false || isUnknown(value)) return [];
    const problem =
      value === undefined
        ? `${c.label} leaves securityContext.allowPrivilegeEscalation unset (it defaults to true)`
        : `${c.label} sets securityContext.allowPrivilegeEscalation to ${show(value)}`;
    return [message(r, problem, "set it to false", "K2")];
  });
}

/** K3: every container runs with `runAsNonRoot: true` (its own or the pod's). */
export function checkRunAsNonRoot(resource: Resource): string[] {
  return eachContainer(resource, (r, pod, c) => {
    const { value, path } = effectiveSecurity(pod, c, "runAsNonRoot");
    if (value === true || isUnknown(value)) return [];
    const problem =
      value === undefined
        ? `${c.label} does not set runAsNonRoot (neither securityContext.runAsNonRoot nor ` +
          `${pod.specPath}.securityContext.runAsNonRoot)`
        : `${c.label} sets ${path} to ${show(value)}`;
    return [message(r, problem, "set runAsNonRoot to true", "K3")];
  });
}

/** K4: a non-zero numeric runAsUser and runAsGroup (the image's USER) for every container. */
export function checkRunAsUser(resource: Resource): string[] {
  return eachContainer(resource, (r, pod, c) =>
    (["runAsUser", "runAsGroup"] as const).flatMap((field) => {
      const { value, path } = effectiveSecurity(pod, c, field);
      const fix = `set securityContext.${field} to the image's numeric non-root USER`;
      if (value === undefined) {
        const problem = `${c.label} does not set ${field}, so the image decides who it runs as`;
        return [message(r, problem, fix, "K4")];
      }
      return value === 0 ? [message(r, `${c.label} sets ${path} to 0 (root)`, fix, "K4")] : [];
    }),
  );
}

/** K5: capabilities drop ALL and add at most NET_BIND_SERVICE. */
export function checkCapabilities(resource: Resource): string[] {
  return eachContainer(resource, (r, _pod, c) => {
    const out: string[] = [];
    const drop = at(c.spec, "securityContext", "capabilities", "drop");
    const dropped = asArray(drop);
    if (!isUnknown(drop) && !dropped?.includes("ALL") && !dropped?.some(isUnknown)) {
      const problem =
        dropped === undefined
          ? `${c.label} does not drop capabilities (securityContext.capabilities.drop is unset)`
          : `${c.label} drops ${show(dropped)} instead of ALL capabilities`;
      out.push(message(r, problem, 'set securityContext.capabilities.drop to ["ALL"]', "K5"));
    }
    const added = (asArray(at(c.spec, "securityContext", "capabilities", "add")) ?? [])
      .map(asString)
      .filter((cap): cap is string => cap !== undefined && cap !== "NET_BIND_SERVICE");
    if (added.length > 0) {
      out.push(
        message(
          r,
          `${c.label} adds ${added.join(", ")} in securityContext.capabilities.add`,
          "add nothing but NET_BIND_SERVICE",
          "K5",
        ),
      );
    }
    return out;
  });
}

/** K6: a RuntimeDefault (or Localhost) seccomp profile for every container. */
export function checkSeccomp(resource: Resource): string[] {
  return eachContainer(resource, (r, pod, c) => {
    const { value, path } = effectiveSecurity(pod, c, "seccompProfile");
    const type = at(value, "type");
    if (isUnknown(type) || type === "RuntimeDefault" || type === "Localhost") return [];
    const fix = `set ${pod.specPath}.securityContext.seccompProfile.type to "RuntimeDefault"`;
    const problem =
      type === undefined
        ? `${c.label} has no seccomp profile (neither securityContext.seccompProfile nor ` +
          `${pod.specPath}.securityContext.seccompProfile is set)`
        : `${c.label} sets ${path}.type to ${show(type)}`;
    return [message(r, problem, fix, "K6")];
  });
}

/** K7: no host namespaces, host ports or hostPath volumes. */
export function checkHostAccess(resource: Resource): string[] {
  const pod = podOf(resource);
  if (!pod?.spec) return [];
  const out: string[] = [];
  for (const field of ["hostNetwork", "hostPID", "hostIPC"]) {
    if (pod.spec[field] === true) {
      out.push(message(resource, `${pod.specPath}.${field} is true`, "remove it", "K7"));
    }
  }
  for (const c of containersOf(pod)) {
    (asArray(c.spec["ports"]) ?? []).forEach((port, i) => {
      const hostPort = asNumber(at(port, "hostPort"));
      if (hostPort !== undefined && hostPort !== 0) {
        const problem = `${c.label} sets ports[${i}].hostPort to ${hostPort}`;
        const fix = "remove hostPort and reach the pod through a Service";
        out.push(message(resource, problem, fix, "K7"));
      }
    });
  }
  (asArray(pod.spec["volumes"]) ?? []).forEach((volume, i) => {
    const hostPath = at(volume, "hostPath");
    if (hostPath === undefined) return;
    const name = asString(at(volume, "name")) ?? "";
    const problem = `${pod.specPath}.volumes[${i}] ("${name}") is a hostPath volume`;
    const fix = "use an emptyDir, configMap, secret or persistentVolumeClaim volume instead";
    out.push(message(resource, problem, fix, "K7"));
  });
  return out;
}

/** K8: only configMap, secret, emptyDir, projected, downwardAPI, PVC, ephemeral and csi volumes. */
export function checkVolumeTypes(resource: Resource): string[] {
  const pod = podOf(resource);
  const out: string[] = [];
  (asArray(pod?.spec?.["volumes"]) ?? []).forEach((item, i) => {
    const volume = asRecord(item);
    if (!volume || !pod) return;
    const types = Object.keys(volume).filter(
      (k) => k !== "name" && k !== "hostPath" && !ALLOWED_VOLUME_TYPES.includes(k),
    );
    const name = asString(volume["name"]) ?? "";
    for (const type of types) {
      const problem = `${pod.specPath}.volumes[${i}] ("${name}") is a ${type} volume`;
      const fix = `use one of ${ALLOWED_VOLUME_TYPES.join(", ")}`;
      out.push(message(resource, problem, fix, "K8"));
    }
  });
  return out;
}

/** Mount paths of a container that are writable (known mounts without readOnly). */
function writableMounts(container: Container): string[] | undefined {
  const mounts = asArray(container.spec["volumeMounts"]);
  if (isUnknown(container.spec["volumeMounts"])) return undefined;
  return (mounts ?? [])
    .filter((m) => at(m, "readOnly") !== true)
    .map((m) => asString(at(m, "mountPath")))
    .filter((p): p is string => p !== undefined);
}

function under(path: string, mount: string): boolean {
  const base = mount.endsWith("/") ? mount.slice(0, -1) : mount;
  return path === base || path.startsWith(`${base}/`);
}

/** K10: read-only root filesystem, an emptyDir at /tmp, writable dirs for caches set in env. */
export function checkReadOnlyRoot(resource: Resource): string[] {
  return eachContainer(resource, (r, pod, c) => {
    const out: string[] = [];
    const readOnly = at(c.spec, "securityContext", "readOnlyRootFilesystem");
    if (readOnly !== true && !isUnknown(readOnly)) {
      const problem =
        readOnly === undefined
          ? `${c.label} leaves securityContext.readOnlyRootFilesystem unset`
          : `${c.label} sets securityContext.readOnlyRootFilesystem to ${show(readOnly)}`;
      const fix = "set it to true and mount an emptyDir wherever the app writes";
      out.push(message(r, problem, fix, "K10"));
    }
    if (c.init) return out;
    const mounts = c.spec["volumeMounts"];
    if (isUnknown(mounts)) return out;
    const list = asArray(mounts) ?? [];
    const tmp = list.find((m) => at(m, "mountPath") === "/tmp");
    const fixTmp = "mount an emptyDir volume at /tmp";
    if (tmp === undefined) {
      if (!list.some((m) => isUnknown(at(m, "mountPath")))) {
        out.push(message(r, `${c.label} has no volume mounted at /tmp`, fixTmp, "K10"));
      }
    } else {
      const volumeName = asString(at(tmp, "name"));
      const volume = (asArray(pod.spec?.["volumes"]) ?? []).find(
        (v) => volumeName !== undefined && at(v, "name") === volumeName,
      );
      if (at(tmp, "readOnly") === true) {
        out.push(message(r, `${c.label} mounts /tmp read-only`, fixTmp, "K10"));
      } else if (volume !== undefined && at(volume, "emptyDir") === undefined) {
        const problem = `${c.label} mounts volume "${volumeName ?? ""}" at /tmp, which is not an emptyDir`;
        out.push(message(r, problem, fixTmp, "K10"));
      }
    }
    const writable = writableMounts(c);
    if (readOnly !== true || writable === undefined) return out;
    for (const entry of asArray(c.spec["env"]) ?? []) {
      const name = asString(at(entry, "name"));
      const value = asString(at(entry, "value"));
      if (name === undefined || value === undefined || !WRITABLE_DIR_ENV.includes(name)) continue;
      if (!value.startsWith("/") || writable.some((m) => under(value, m))) continue;
      const problem = `${c.label} points ${name} at "${value}", which is on the read-only root filesystem`;
      const fix = "mount an emptyDir there or point it below /tmp";
      out.push(message(r, problem, fix, "K10"));
    }
    return out;
  });
}

/** K11: cpu and memory requests, a memory limit (a CPU limit if configured), limits >= requests. */
export function checkResources(resource: Resource, config: ResourcesConfig = {}): string[] {
  return eachContainer(resource, (r, _pod, c) => {
    const resources = c.spec["resources"];
    if (isUnknown(resources)) return [];
    const out: string[] = [];
    const required: [string, string, string][] = [
      ["requests", "cpu", 'set a CPU request (e.g. "100m")'],
      ["requests", "memory", 'set a memory request (e.g. "256Mi")'],
      ["limits", "memory", "set a memory limit at or above the request"],
    ];
    if (config.requireCpuLimit === true) {
      required.push(["limits", "cpu", "set a CPU limit at or above the request"]);
    }
    for (const [group, name, fix] of required) {
      if (at(resources, group, name) === undefined) {
        out.push(message(r, `${c.label} sets no resources.${group}.${name}`, fix, "K11"));
      }
    }
    const requests = asRecord(at(resources, "requests")) ?? {};
    for (const name of Object.keys(requests)) {
      const request = requests[name];
      const limit = at(resources, "limits", name);
      const requested = quantity(request);
      const limited = quantity(limit);
      if (requested !== undefined && limited !== undefined && limited < requested) {
        const problem =
          `${c.label} sets resources.limits.${name} (${show(limit)}) below ` +
          `resources.requests.${name} (${show(request)})`;
        out.push(message(r, problem, "raise the limit to at least the request", "K11"));
      }
    }
    return out;
  });
}

function probeHandlerProblems(
  r: Resource,
  c: Container,
  field: string,
  probe: unknown,
  id: string,
): string[] {
  const handlers = ["httpGet", "tcpSocket", "exec", "grpc"];
  const record = asRecord(probe);
  if (!record) return [];
  if (!handlers.some((h) => record[h] !== undefined)) {
    const fix = "give it an httpGet, tcpSocket, exec or grpc check";
    return [message(r, `${c.label} has a ${field} without a handler`, fix, id)];
  }
  const path = at(record, "httpGet", "path");
  if (typeof path === "string" && !isUnknown(path) && !path.startsWith("/")) {
    const fix = "use an absolute path such as /healthz";
    return [message(r, `${c.label} ${field}.httpGet.path ${show(path)} is not absolute`, fix, id)];
  }
  const command = asArray(at(record, "exec", "command"));
  if (record["exec"] !== undefined && command !== undefined && command.length === 0) {
    const fix = "give it a command that checks the app";
    return [message(r, `${c.label} ${field}.exec.command is empty`, fix, id)];
  }
  return [];
}

/** K14: a readinessProbe with a usable handler on every app container. */
export function checkReadinessProbe(resource: Resource): string[] {
  return eachContainer(
    resource,
    (r, _pod, c) => {
      const probe = c.spec["readinessProbe"];
      if (isUnknown(probe)) return [];
      if (probe === undefined) {
        const fix = "add a readinessProbe on the app's ready endpoint";
        return [message(r, `${c.label} has no readinessProbe`, fix, "K14")];
      }
      return probeHandlerProblems(r, c, "readinessProbe", probe, "K14");
    },
    false,
  );
}

/** K15: a livenessProbe, no more frequent than readiness and not on the readiness endpoint. */
export function checkLivenessProbe(resource: Resource): string[] {
  return eachContainer(
    resource,
    (r, _pod, c) => {
      const liveness = c.spec["livenessProbe"];
      if (isUnknown(liveness)) return [];
      if (liveness === undefined) {
        const fix = "add a cheap livenessProbe (a tcpSocket check or a path without dependencies)";
        return [message(r, `${c.label} has no livenessProbe`, fix, "K15")];
      }
      const out = probeHandlerProblems(r, c, "livenessProbe", liveness, "K15");
      const readiness = c.spec["readinessProbe"];
      if (asRecord(readiness) === undefined) return out;
      const livePeriod = at(liveness, "periodSeconds") ?? 10;
      const readyPeriod = at(readiness, "periodSeconds") ?? 10;
      if (typeof livePeriod === "number" && typeof readyPeriod === "number") {
        if (livePeriod < readyPeriod) {
          const problem =
            `${c.label} runs livenessProbe every ${livePeriod}s, more often than ` +
            `readinessProbe (every ${readyPeriod}s)`;
          const fix = "set livenessProbe.periodSeconds to at least readinessProbe.periodSeconds";
          out.push(message(r, problem, fix, "K15"));
        }
      }
      const livePath = asString(at(liveness, "httpGet", "path"));
      const livePort = at(liveness, "httpGet", "port");
      if (
        livePath !== undefined &&
        livePath === asString(at(readiness, "httpGet", "path")) &&
        !isUnknown(livePort) &&
        livePort === at(readiness, "httpGet", "port")
      ) {
        const problem = `${c.label} livenessProbe polls the readiness endpoint ${show(livePath)}`;
        const fix =
          "point it at a path without dependencies or use a tcpSocket check, so a slow " +
          "dependency never gets the pod restarted";
        out.push(message(r, problem, fix, "K15"));
      }
      return out;
    },
    false,
  );
}

/** K16: a startupProbe whose budget (failureThreshold x periodSeconds) covers the slowest start. */
export function checkStartupProbe(resource: Resource, config: StartupConfig = {}): string[] {
  const minimum = config.minStartupSeconds ?? 60;
  return eachContainer(
    resource,
    (r, _pod, c) => {
      const probe = c.spec["startupProbe"];
      if (isUnknown(probe)) return [];
      if (probe === undefined) {
        const fix = `add a startupProbe that allows at least ${minimum}s (failureThreshold x periodSeconds)`;
        return [message(r, `${c.label} has no startupProbe`, fix, "K16")];
      }
      const out = probeHandlerProblems(r, c, "startupProbe", probe, "K16");
      const failures = at(probe, "failureThreshold") ?? 3;
      const period = at(probe, "periodSeconds") ?? 10;
      const delay = at(probe, "initialDelaySeconds") ?? 0;
      if (typeof failures !== "number" || typeof period !== "number" || typeof delay !== "number") {
        return out;
      }
      const budget = failures * period + delay;
      if (budget < minimum) {
        const problem =
          `${c.label} startupProbe allows ${budget}s (failureThreshold ${failures} x ` +
          `periodSeconds ${period}${delay > 0 ? ` + initialDelaySeconds ${delay}` : ""})`;
        const fix = `raise startupProbe.failureThreshold so it allows at least ${minimum}s`;
        out.push(message(r, problem, fix, "K16"));
      }
      return out;
    },
    false,
  );
}

/**
 * The environment a workload runs in: the configured one, else its `pyfleet.dev/environment`
 * label (object or pod template); undefined when neither is known.
 */
export function environmentOf(resource: Resource, config: EnvironmentConfig): string | undefined {
  if (config.environment !== undefined) return config.environment;
  const own = asString(labelsOf(resource.props)?.[ENVIRONMENT_LABEL]);
  if (own !== undefined) return own;
  const pod = podOf(resource);
  return asString(asRecord(pod?.labels)?.[ENVIRONMENT_LABEL]);
}

/** K17: at least two replicas outside dev (unset replicas are judged by the stack policy). */
export function checkReplicas(resource: Resource, config: EnvironmentConfig = {}): string[] {
  const environment = environmentOf(resource, config);
  if (environment === undefined || environment === "dev") return [];
  const replicas = asNumber(at(resource.props, "spec", "replicas"));
  if (replicas === undefined || replicas >= 2) return [];
  const problem = `spec.replicas is ${replicas} in ${environment}`;
  const fix =
    "set it to at least 2 (or leave it to an HPA with minReplicas >= 2) so a restart or a " +
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
  } else if (!isUnknown(maxUnavailable) && percentOrNumber(maxUnavailable) !== 0) {
    const problem = `spec.strategy.rollingUpdate.maxUnavailable is ${show(maxUnavailable)}`;
    out.push(message(resource, problem, "set it to 0", "K18"));
  }
  const maxSurge = at(strategy, "rollingUpdate", "maxSurge");
  if (percentOrNumber(maxSurge) === 0) {
    const problem = `spec.strategy.rollingUpdate.maxSurge is ${show(maxSurge)}`;
    out.push(message(resource, problem, "set it to 1 or more", "K18"));
  }
  return out;
}

/** K19: minReadySeconds > 0; progressDeadlineSeconds set and above minReadySeconds. */
export function checkRolloutTiming(resource: Resource): string[] {
  const out: string[] = [];
  const spec = at(resource.props, "spec");
  if (isUnknown(spec)) return [];
  const minReady = at(spec, "minReadySeconds");
  if (minReady === undefined || minReady === 0) {
    const problem = `spec.minReadySeconds is ${minReady === undefined ? "unset (0)" : "0"}`;
    const fix = "set it above 0 so a new pod must stay ready before it counts as available";
    out.push(message(resource, problem, fix, "K19"));
  }
  if (resource.type !== "kubernetes:apps/v1:Deployment") return out;
  const deadline = at(spec, "progressDeadlineSeconds");
  if (deadline === undefined) {
    const problem = "spec.progressDeadlineSeconds is unset (it defaults to 600)";
    const fix = "set it, below the Pulumi await timeout (customTimeouts)";
    out.push(message(resource, problem, fix, "K19"));
  } else if (typeof deadline === "number" && typeof minReady === "number" && deadline <= minReady) {
    const problem = `spec.progressDeadlineSeconds (${deadline}) is not above spec.minReadySeconds (${minReady})`;
    out.push(message(resource, problem, "raise it", "K19"));
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
      const grace = pod.spec?.["terminationGracePeriodSeconds"] ?? 30;
      if (drain === undefined || typeof grace !== "number" || grace > drain) return [];
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

/** K22: no service-account token, and an own ServiceAccount. */
export function checkServiceAccount(resource: Resource): string[] {
  const pod = podOf(resource);
  if (!pod?.spec) return [];
  const out: string[] = [];
  const automount = pod.spec["automountServiceAccountToken"];
  if (automount !== false && !isUnknown(automount)) {
    const problem =
      automount === undefined
        ? `${pod.specPath}.automountServiceAccountToken is unset (the token is mounted)`
        : `${pod.specPath}.automountServiceAccountToken is ${show(automount)}`;
    out.push(message(resource, problem, "set it to false", "K22"));
  }
  const account = pod.spec["serviceAccountName"] ?? pod.spec["serviceAccount"];
  if (account === undefined || account === "" || account === "default") {
    const problem =
      account === undefined || account === ""
        ? `${pod.specPath}.serviceAccountName is unset, so the pods run as the namespace's default ServiceAccount`
        : `${pod.specPath}.serviceAccountName is "default"`;
    out.push(
      message(resource, problem, "create a ServiceAccount for the app and name it here", "K22"),
    );
  }
  return out;
}

/** K23: no literal values in env vars whose names look like secrets. */
export function checkEnvSecrets(resource: Resource): string[] {
  return eachContainer(resource, (r, _pod, c) =>
    (asArray(c.spec["env"]) ?? []).flatMap((entry) => {
      const name = asString(at(entry, "name"));
      const value = at(entry, "value");
      if (name === undefined || !SECRET_LIKE.test(name) || value === undefined || value === "") {
        return [];
      }
      const problem = `${c.label} sets env ${name} to a literal value`;
      const fix = "take it from a Secret (valueFrom.secretKeyRef or envFrom.secretRef)";
      return [message(r, problem, fix, "K23")];
    }),
  );
}

/** K24: the app.kubernetes.io/* labels on the pods, and a selector that is a subset of them. */
export function checkLabels(resource: Resource): string[] {
  const pod = podOf(resource);
  if (!pod || isUnknown(pod.labels)) return [];
  const labels = asRecord(pod.labels) ?? {};
  const out: string[] = [];
  const missing = REQUIRED_LABELS.filter((key) => labels[key] === undefined);
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
  const deadline = at(resource.props, "spec", "progressDeadlineSeconds") ?? 600;
  if (typeof deadline !== "number") return out;
  for (const op of ["create", "update"] as const) {
    const seconds = timeouts[`${op}Seconds`];
    if (seconds <= 0 || deadline < seconds) continue;
    const problem = `spec.progressDeadlineSeconds (${deadline}) is not below customTimeouts.${op} (${seconds}s)`;
    const fix =
      "lower the deadline or raise the timeout so Kubernetes reports a stalled rollout first";
    out.push(message(resource, problem, fix, "K19"));
  }
  return out;
}

/** Config schema of the policies that need the environment (K17). */
export const environmentSchema: PolicyConfigSchema = {
  properties: {
    environment: {
      type: "string",
      enum: ["dev", "staging", "prod"],
      description:
        "The stack's environment; when unset, the object's pyfleet.dev/environment label decides.",
    },
  },
};

/** The pod and workload policies. */
export const workloadPolicies: PyfleetResourcePolicy[] = [
  resourcePolicy({
    name: "pod-privileged",
    description: "Containers must not run privileged.",
    checklist: ["K1"],
    severity: "critical",
    remediationSteps: "Remove securityContext.privileged or set it to false.",
    types: WORKLOAD_TYPES,
    check: checkPrivileged,
  }),
  resourcePolicy({
    name: "pod-privilege-escalation",
    description: "Containers must set securityContext.allowPrivilegeEscalation to false.",
    checklist: ["K2"],
    severity: "high",
    remediationSteps: "Set securityContext.allowPrivilegeEscalation: false on every container.",
    types: WORKLOAD_TYPES,
    check: checkPrivilegeEscalation,
  }),
  resourcePolicy({
    name: "pod-run-as-non-root",
    description: "Containers must run with runAsNonRoot: true.",
    checklist: ["K3"],
    severity: "high",
    remediationSteps: "Set runAsNonRoot: true in the pod or container securityContext.",
    types: WORKLOAD_TYPES,
    check: checkRunAsNonRoot,
  }),
  resourcePolicy({
    name: "pod-run-as-user",
    description: "Containers must run as a non-zero numeric runAsUser and runAsGroup.",
    checklist: ["K4"],
    severity: "high",
    remediationSteps: "Set runAsUser and runAsGroup to the image's numeric non-root USER.",
    types: WORKLOAD_TYPES,
    check: checkRunAsUser,
  }),
  resourcePolicy({
    name: "pod-capabilities",
    description: "Containers must drop ALL capabilities and add at most NET_BIND_SERVICE.",
    checklist: ["K5"],
    severity: "high",
    remediationSteps: 'Set securityContext.capabilities.drop: ["ALL"].',
    types: WORKLOAD_TYPES,
    check: checkCapabilities,
  }),
  resourcePolicy({
    name: "pod-seccomp",
    description: "Containers must run under the RuntimeDefault seccomp profile.",
    checklist: ["K6"],
    severity: "high",
    remediationSteps: 'Set the pod securityContext.seccompProfile.type to "RuntimeDefault".',
    types: WORKLOAD_TYPES,
    check: checkSeccomp,
  }),
  resourcePolicy({
    name: "pod-host-access",
    description: "Pods must not use host namespaces, host ports or hostPath volumes.",
    checklist: ["K7"],
    severity: "critical",
    remediationSteps: "Remove hostNetwork, hostPID, hostIPC, hostPort and hostPath.",
    types: WORKLOAD_TYPES,
    check: checkHostAccess,
  }),
  resourcePolicy({
    name: "pod-volume-types",
    description: "Pods may only use the volume types of the restricted Pod Security profile.",
    checklist: ["K8"],
    severity: "high",
    remediationSteps: `Use only ${ALLOWED_VOLUME_TYPES.join(", ")} volumes.`,
    types: WORKLOAD_TYPES,
    check: checkVolumeTypes,
  }),
  resourcePolicy({
    name: "pod-read-only-root",
    description:
      "Containers must have a read-only root filesystem with an emptyDir at /tmp and writable cache dirs.",
    checklist: ["K10"],
    severity: "medium",
    remediationSteps:
      "Set readOnlyRootFilesystem: true and mount emptyDir volumes at /tmp and every cache dir.",
    types: WORKLOAD_TYPES,
    check: checkReadOnlyRoot,
  }),
  resourcePolicy<ResourcesConfig>({
    name: "pod-resources",
    description: "Containers must request CPU and memory and limit memory, limits >= requests.",
    checklist: ["K11"],
    severity: "medium",
    remediationSteps: "Set resources.requests.cpu, requests.memory and limits.memory.",
    types: WORKLOAD_TYPES,
    configSchema: {
      properties: {
        requireCpuLimit: {
          type: "boolean",
          default: false,
          description: "Whether every container must set a CPU limit too.",
        },
      },
    },
    check: checkResources,
  }),
  resourcePolicy({
    name: "probe-readiness",
    description: "App containers must have a readinessProbe on the app's ready endpoint.",
    checklist: ["K14"],
    severity: "medium",
    remediationSteps: "Add a readinessProbe (httpGet on the ready path, or exec for workers).",
    types: LONG_RUNNING_TYPES,
    check: checkReadinessProbe,
  }),
  resourcePolicy({
    name: "probe-liveness",
    description:
      "App containers must have a livenessProbe that is cheaper than readiness (not more frequent, not the same endpoint).",
    checklist: ["K15"],
    severity: "medium",
    remediationSteps: "Add a tcpSocket or dependency-free httpGet livenessProbe.",
    types: LONG_RUNNING_TYPES,
    check: checkLivenessProbe,
  }),
  resourcePolicy<StartupConfig>({
    name: "probe-startup",
    description: "App containers must have a startupProbe whose budget covers the slowest start.",
    checklist: ["K16"],
    severity: "medium",
    remediationSteps: "Add a startupProbe with failureThreshold x periodSeconds >= the start time.",
    types: LONG_RUNNING_TYPES,
    configSchema: {
      properties: {
        minStartupSeconds: {
          type: "integer",
          minimum: 1,
          default: 60,
          description: "Seconds the startup probe must allow at least.",
        },
      },
    },
    check: checkStartupProbe,
  }),
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
  resourcePolicy({
    name: "pod-service-account",
    description: "Pods use their own ServiceAccount and do not mount its token.",
    checklist: ["K22"],
    severity: "medium",
    remediationSteps: "Set serviceAccountName and automountServiceAccountToken: false.",
    types: WORKLOAD_TYPES,
    check: checkServiceAccount,
  }),
  resourcePolicy({
    name: "pod-env-secrets",
    description: "Env vars whose names look like secrets take their values from Secrets.",
    checklist: ["K23"],
    severity: "high",
    remediationSteps: "Use valueFrom.secretKeyRef or envFrom.secretRef instead of value.",
    types: WORKLOAD_TYPES,
    check: checkEnvSecrets,
  }),
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

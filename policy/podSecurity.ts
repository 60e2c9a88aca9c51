/**
 * Pod security checks (K1-K8, K10 of CHECKLIST.md): the restricted Pod Security profile on the
 * pod templates of every workload kind. Each check is a pure function from a {@link Resource}
 * to messages; unknown values never fail a check.
 */
import type { PyfleetResourcePolicy } from "./framework";
import { resourcePolicy } from "./framework";
import {
  WORKLOAD_TYPES,
  containersOf,
  eachContainer,
  effectiveSecurity,
  podOf,
  type Container,
} from "./pods";
import { message, show, type Resource } from "./resource";
import { asArray, asNumber, asRecord, asString, at, isUnknown } from "./values";
import {
  ALLOWED_ADDED_CAPABILITIES,
  ALLOWED_SECCOMP_PROFILES,
  ALLOWED_VOLUME_TYPES,
  DROPPED_CAPABILITIES,
  SCRATCH_MOUNT_PATH,
  SECCOMP_PROFILE,
  isAllowedVolumeType,
} from "./vocabulary";

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
    const dropsAll = DROPPED_CAPABILITIES.every((cap) => dropped?.includes(cap));
    if (!isUnknown(drop) && !dropsAll && !dropped?.some(isUnknown)) {
      const problem =
        dropped === undefined
          ? `${c.label} does not drop capabilities (securityContext.capabilities.drop is unset)`
          : `${c.label} drops ${show(dropped)} instead of ${DROPPED_CAPABILITIES.join(", ")} capabilities`;
      const fix = `set securityContext.capabilities.drop to ${JSON.stringify(DROPPED_CAPABILITIES)}`;
      out.push(message(r, problem, fix, "K5"));
    }
    const added = (asArray(at(c.spec, "securityContext", "capabilities", "add")) ?? [])
      .map(asString)
      .filter(
        (cap): cap is string => cap !== undefined && !ALLOWED_ADDED_CAPABILITIES.includes(cap),
      );
    if (added.length > 0) {
      out.push(
        message(
          r,
          `${c.label} adds ${added.join(", ")} in securityContext.capabilities.add`,
          `add nothing but ${ALLOWED_ADDED_CAPABILITIES.join(", ")}`,
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
    if (isUnknown(type) || (typeof type === "string" && ALLOWED_SECCOMP_PROFILES.includes(type))) {
      return [];
    }
    const fix = `set ${pod.specPath}.securityContext.seccompProfile.type to "${SECCOMP_PROFILE}"`;
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
      (k) => k !== "name" && k !== "hostPath" && !isAllowedVolumeType(k),
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
    const tmp = list.find((m) => at(m, "mountPath") === SCRATCH_MOUNT_PATH);
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

/** The pod security policies. */
export const podSecurityPolicies: PyfleetResourcePolicy[] = [
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
    remediationSteps: `Set securityContext.capabilities.drop: ${JSON.stringify(DROPPED_CAPABILITIES)}.`,
    types: WORKLOAD_TYPES,
    check: checkCapabilities,
  }),
  resourcePolicy({
    name: "pod-seccomp",
    description: "Containers must run under the RuntimeDefault seccomp profile.",
    checklist: ["K6"],
    severity: "high",
    remediationSteps: `Set the pod securityContext.seccompProfile.type to "${SECCOMP_PROFILE}".`,
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
];

/**
 * The restricted Pod Security profile as pyfleet applies it: the namespace labels that make
 * Kubernetes enforce it (C3), and the container settings it demands (K5, K6) that the workload
 * specs set and the policy pack checks.
 */

/** The Pod Security Standards level every pyfleet namespace enforces, warns and audits. */
export const POD_SECURITY_LEVEL = "restricted";

/** Label of the Pod Security Standards level a namespace enforces. */
export const POD_SECURITY_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce";

/** The three Pod Security modes a namespace is labelled with. */
const POD_SECURITY_MODES = ["enforce", "warn", "audit"] as const;

/** Namespace labels for the restricted profile, in every mode, at the cluster's latest version. */
export const POD_SECURITY_LABELS: Readonly<Record<string, string>> = Object.fromEntries(
  POD_SECURITY_MODES.flatMap((mode) => [
    [`pod-security.kubernetes.io/${mode}`, POD_SECURITY_LEVEL],
    [`pod-security.kubernetes.io/${mode}-version`, "latest"],
  ]),
);

/**
 * The lowest uid and gid an image and its pods run as (D2, K4): above the system accounts a
 * base image may define, so the app never shares an identity with one.
 */
export const MIN_UID = 1000;

/**
 * Where every app container gets its writable scratch emptyDir under a read-only root (K10);
 * settings keep volumes off it, and caches are pointed below it.
 */
export const SCRATCH_MOUNT_PATH = "/tmp";

/** Capabilities every container drops (K5). */
export const DROPPED_CAPABILITIES: readonly string[] = ["ALL"];

/** The only capability a container may add back (K5). */
export const ALLOWED_ADDED_CAPABILITIES: readonly string[] = ["NET_BIND_SERVICE"];

/** The seccomp profile pyfleet pods run under (K6). */
export const SECCOMP_PROFILE = "RuntimeDefault";

/** Seccomp profile types the restricted profile accepts (K6). */
export const ALLOWED_SECCOMP_PROFILES: readonly string[] = [SECCOMP_PROFILE, "Localhost"];

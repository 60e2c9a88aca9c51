/**
 * The label keys pyfleet objects carry (K24): the app.kubernetes.io/* recommended labels that
 * the workload specs set and the policy pack requires, and pyfleet's environment label, which
 * the replica policies read when the pack config names no environment.
 */

/** The app.kubernetes.io/* label keys, by role. */
export const APP_LABEL = {
  name: "app.kubernetes.io/name",
  instance: "app.kubernetes.io/instance",
  component: "app.kubernetes.io/component",
  partOf: "app.kubernetes.io/part-of",
  managedBy: "app.kubernetes.io/managed-by",
  version: "app.kubernetes.io/version",
} as const;

/** The app.kubernetes.io/* labels every pod template carries (K24); the version is optional. */
export const REQUIRED_APP_LABELS: readonly string[] = [
  APP_LABEL.name,
  APP_LABEL.instance,
  APP_LABEL.component,
  APP_LABEL.partOf,
  APP_LABEL.managedBy,
];

/** Label carrying the environment on pyfleet objects. */
export const ENVIRONMENT_LABEL = "pyfleet.dev/environment";

/**
 * The environments a stack can select and the rules that differ between them: outside dev a
 * workload runs at least two replicas (K17), and an HPA never scales below two (C6). Settings
 * refuse a stack that breaks them, the workload specs follow them and the pack checks them.
 */

/** The three environments a stack can select. */
export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
/** One of the environments a stack can select. */
export type Environment = (typeof ENVIRONMENTS)[number];

/** The one environment where a single replica is fine: nothing depends on it staying up. */
const RELAXED_ENVIRONMENT: Environment = "dev";

/** Replicas a workload runs at least outside dev, so a restart or drain leaves a ready pod (K17). */
const MIN_REPLICAS = 2;

/** Replicas an HPA keeps at least, in every environment (C6). */
export const HPA_MIN_REPLICAS = MIN_REPLICAS;

/**
 * The fewest replicas a workload may run in `environment` (K17); any name but dev counts as
 * strict, so an unknown environment is never treated as a playground.
 */
export function minimumReplicas(environment: string): number {
  return environment === RELAXED_ENVIRONMENT ? 0 : MIN_REPLICAS;
}

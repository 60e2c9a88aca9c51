/**
 * How a Deployment rolls out and stops (K18-K20, K25): the numbers the workload specs use and
 * the relations the settings and the policy pack check between them.
 */

/** K18: the RollingUpdate parameters: never take a ready pod away, add one at a time. */
export const ROLLING_UPDATE = { maxUnavailable: 0, maxSurge: 1 } as const;

/** K18: the smallest surge that still lets a rollout progress. */
export const MIN_SURGE = 1;

/** Kubernetes' progressDeadlineSeconds when a Deployment leaves it unset. */
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;

/** Kubernetes' terminationGracePeriodSeconds when a pod leaves it unset. */
export const DEFAULT_TERMINATION_GRACE_SECONDS = 30;

/** K19: minReadySeconds must be above 0 so a new pod has to stay ready before it counts. */
export function minReadyCounts(minReadySeconds: number): boolean {
  return minReadySeconds > 0;
}

/** K19: the progress deadline must leave the new pods time to become available. */
export function deadlineCoversMinReady(
  progressDeadlineSeconds: number,
  minReadySeconds: number,
): boolean {
  return progressDeadlineSeconds > minReadySeconds;
}

/** K19/K25: Kubernetes must report a stalled rollout before Pulumi stops waiting for it. */
export function deadlineBelowAwait(progressDeadlineSeconds: number, awaitSeconds: number): boolean {
  return progressDeadlineSeconds < awaitSeconds;
}

/** K20: the grace period must outlast the preStop drain, or SIGKILL cuts the drain short. */
export function graceCoversDrain(graceSeconds: number, drainSeconds: number): boolean {
  return graceSeconds > drainSeconds;
}

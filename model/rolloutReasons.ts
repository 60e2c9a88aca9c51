/**
 * Why a Deployment's rollout did not finish, read from what the cluster says about it. The
 * kubernetes provider reports only the symptom ("[ProgressDeadlineExceeded] ReplicaSet ... has
 * timed out progressing", "Minimum number of live Pods was not attained"); the cause sits in
 * the Deployment's ReplicaFailure condition (pods refused by admission or a quota), the pods'
 * container states (an image that does not pull, a container that exits) and their Warning
 * events (a failing probe, a volume that does not mount). Pure: the caller fetches the objects.
 */

/** The fields read here of a Kubernetes object as `kubectl get -o json` returns it. */
export interface ObservedObject {
  kind?: string;
  metadata?: {
    name?: string;
    uid?: string;
    ownerReferences?: { kind?: string; name?: string; uid?: string }[];
  };
  status?: {
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
  /** Events only. */
  involvedObject?: { kind?: string; name?: string };
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
}

interface ContainerStatus {
  name?: string;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
}

interface ContainerState {
  waiting?: { reason?: string; message?: string };
  terminated?: { exitCode?: number; reason?: string; message?: string };
}

/** Waiting reasons that are the normal way to a running container, not a cause. */
const ON_THE_WAY = new Set(["ContainerCreating", "PodInitializing"]);

/** At most this many reasons per Deployment, the most telling first. */
const MAX_REASONS = 5;

const oneLine = (text: string) => text.replace(/\s+/g, " ").trim();

/**
 * The causes of a stuck rollout, one line each, most telling first: refused pods, then
 * container states, then Warning events of the Deployment's pods (deduplicated, with their
 * counts). Empty when the cluster shows no cause (the provider's own message then stands).
 */
export function rolloutReasons(
  deployment: ObservedObject,
  objects: readonly ObservedObject[],
  events: readonly ObservedObject[],
): string[] {
  const reasons: string[] = [];
  for (const condition of deployment.status?.conditions ?? []) {
    if (condition.type === "ReplicaFailure" && condition.status === "True" && condition.message) {
      reasons.push(`the cluster refused its pods: ${oneLine(condition.message)}`);
    }
  }

  const deploymentUid = deployment.metadata?.uid;
  const ownedBy = (o: ObservedObject, kind: string, uids: ReadonlySet<string | undefined>) =>
    (o.metadata?.ownerReferences ?? []).some((ref) => ref.kind === kind && uids.has(ref.uid));
  const replicaSets = new Set(
    objects
      .filter((o) => o.kind === "ReplicaSet" && ownedBy(o, "Deployment", new Set([deploymentUid])))
      .map((o) => o.metadata?.uid),
  );
  const pods = objects.filter((o) => o.kind === "Pod" && ownedBy(o, "ReplicaSet", replicaSets));

  for (const pod of pods) {
    const podName = pod.metadata?.name ?? "?";
    const statuses = [
      ...(pod.status?.initContainerStatuses ?? []),
      ...(pod.status?.containerStatuses ?? []),
    ];
    for (const status of statuses) {
      const where = `pod ${podName}, container ${status.name ?? "?"}`;
      const waiting = status.state?.waiting;
      if (waiting?.reason && !ON_THE_WAY.has(waiting.reason)) {
        reasons.push(
          `${where}: ${waiting.reason}${waiting.message ? `: ${oneLine(waiting.message)}` : ""}`,
        );
      }
      const ended = status.lastState?.terminated ?? status.state?.terminated;
      if (ended && ended.exitCode !== undefined && ended.exitCode !== 0) {
        reasons.push(
          `${where}: exited with code ${ended.exitCode}` +
            `${ended.reason ? ` (${ended.reason})` : ""}` +
            `${status.restartCount ? `, restarted ${status.restartCount} times` : ""}`,
        );
      }
    }
  }

  const podNames = new Set(pods.map((p) => p.metadata?.name));
  const seen = new Map<string, number>();
  for (const event of events) {
    if (event.type !== "Warning" || event.involvedObject?.kind !== "Pod") continue;
    if (!podNames.has(event.involvedObject.name) || !event.message) continue;
    const text = `${event.reason ?? "Warning"}: ${oneLine(event.message)}`;
    seen.set(text, (seen.get(text) ?? 0) + (event.count ?? 1));
  }
  for (const [text, count] of seen) reasons.push(count > 1 ? `${text} (${count} times)` : text);

  return [...new Set(reasons)].slice(0, MAX_REASONS);
}

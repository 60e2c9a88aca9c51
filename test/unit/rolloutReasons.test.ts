import { describe, expect, it } from "vitest";
import { rolloutReasons, type ObservedObject } from "../../model/rolloutReasons";

const deployment = (conditions: NonNullable<ObservedObject["status"]>["conditions"] = []) => ({
  kind: "Deployment",
  metadata: { name: "dashboard-1a2b", uid: "d1" },
  status: { conditions },
});
const replicaSet = (uid: string, owner = "d1"): ObservedObject => ({
  kind: "ReplicaSet",
  metadata: { name: `rs-${uid}`, uid, ownerReferences: [{ kind: "Deployment", uid: owner }] },
});
const pod = (
  name: string,
  rs: string,
  statuses: NonNullable<ObservedObject["status"]>["containerStatuses"] = [],
): ObservedObject => ({
  kind: "Pod",
  metadata: { name, uid: `p-${name}`, ownerReferences: [{ kind: "ReplicaSet", uid: rs }] },
  status: { containerStatuses: statuses },
});
const event = (podName: string, reason: string, message: string, count = 1): ObservedObject => ({
  kind: "Event",
  type: "Warning",
  involvedObject: { kind: "Pod", name: podName },
  reason,
  message,
  count,
});

const REFUSED =
  'pods "dashboard-1a2b-5d8f-x" is forbidden: violates PodSecurity "restricted:latest": ' +
  'allowPrivilegeEscalation != false (container "dashboard" must set ' +
  "securityContext.allowPrivilegeEscalation=false)";

describe("rolloutReasons", () => {
  it("names pods refused by admission, from the ReplicaFailure condition", () => {
    const refused = deployment([
      { type: "Progressing", status: "True", reason: "ReplicaSetUpdated" },
      { type: "ReplicaFailure", status: "True", reason: "FailedCreate", message: REFUSED },
    ]);
    expect(rolloutReasons(refused, [], [])).toEqual([`the cluster refused its pods: ${REFUSED}`]);
    // A condition that has cleared is no cause.
    const cleared = deployment([
      { type: "ReplicaFailure", status: "False", reason: "FailedCreate", message: REFUSED },
    ]);
    expect(rolloutReasons(cleared, [], [])).toEqual([]);
  });

  it("names a failing probe of the Deployment's own pods, with its count", () => {
    const objects = [replicaSet("r1"), pod("dashboard-x", "r1")];
    const events = [
      event(
        "dashboard-x",
        "Unhealthy",
        "Readiness probe failed: HTTP probe failed with statuscode: 404",
        4,
      ),
      event(
        "dashboard-x",
        "Unhealthy",
        "Readiness probe failed: HTTP probe failed with statuscode: 404",
        2,
      ),
    ];
    expect(rolloutReasons(deployment(), objects, events)).toEqual([
      "Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 404 (6 times)",
    ]);
  });

  it("leaves out pods and events of other Deployments", () => {
    const objects = [replicaSet("r1"), replicaSet("r2", "other"), pod("vectors-y", "r2")];
    const events = [event("vectors-y", "Unhealthy", "Liveness probe failed")];
    expect(rolloutReasons(deployment(), objects, events)).toEqual([]);
  });

  it("names containers that wait for a cause or exit, not those on their way up", () => {
    const objects = [
      replicaSet("r1"),
      pod("dashboard-x", "r1", [
        { name: "app", state: { waiting: { reason: "ContainerCreating" } } },
      ]),
      pod("dashboard-y", "r1", [
        {
          name: "app",
          restartCount: 3,
          state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 40s" } },
          lastState: { terminated: { exitCode: 1, reason: "Error" } },
        },
      ]),
      pod("dashboard-z", "r1", [
        {
          name: "app",
          state: { waiting: { reason: "ImagePullBackOff", message: 'Back-off pulling image "x"' } },
        },
      ]),
    ];
    expect(rolloutReasons(deployment(), objects, [])).toEqual([
      "pod dashboard-y, container app: CrashLoopBackOff: back-off 40s",
      "pod dashboard-y, container app: exited with code 1 (Error), restarted 3 times",
      'pod dashboard-z, container app: ImagePullBackOff: Back-off pulling image "x"',
    ]);
  });

  it("keeps at most five reasons, each once", () => {
    const objects = [replicaSet("r1"), pod("dashboard-x", "r1")];
    const events = Array.from({ length: 8 }, (_, i) =>
      event("dashboard-x", "Failed", `cause ${i}`),
    );
    expect(rolloutReasons(deployment(), objects, [...events, ...events])).toHaveLength(5);
    expect(rolloutReasons(deployment(), objects, [...events, ...events])[0]).toBe(
      "Failed: cause 0 (2 times)",
    );
  });
});

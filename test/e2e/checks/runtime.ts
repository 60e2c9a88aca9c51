/** Checks of a built image running the way the cluster runs it. */
import { defineCheck, ensure } from "../lib/check";

/** Starting the image hardened and polling its health endpoint. */
export interface HealthObservation {
  /** Whether the image was built at all. */
  built: boolean;
  /** Exit status and error text of `docker run`. */
  run: { status: number; stderr: string };
  /** Seconds until the endpoint answered 200; undefined when it never did. */
  seconds: number | undefined;
  /** How long it was polled. */
  timeoutSeconds: number;
}

/** The image started read-only with no capabilities and its endpoint answered 200. */
export const imageAnswersHealth = defineCheck<HealthObservation>("image-answers-health", (o) => {
  ensure(o.built, "not built");
  ensure(o.run.status === 0, `docker run failed: ${o.run.stderr}`);
  ensure(o.seconds !== undefined, `no 200 within ${o.timeoutSeconds}s`);
  return `${o.seconds.toFixed(1)}s`;
});

/** Polling Docker's view of the image's HEALTHCHECK. */
export interface HealthcheckObservation {
  /** The last `.State.Health.Status` seen. */
  status: string;
  /** Seconds until it read `healthy`; undefined when it never did. */
  seconds: number | undefined;
  /** How long it was polled. */
  timeoutSeconds: number;
}

/** Docker reported the container healthy. */
export const healthcheckHealthy = defineCheck<HealthcheckObservation>(
  "healthcheck-healthy",
  (o) => {
    ensure(
      o.seconds !== undefined && o.status === "healthy",
      `not healthy within ${o.timeoutSeconds}s (last status: ${o.status || "none"})`,
    );
  },
);

/** The container's main process as the host sees it. */
export interface UidObservation {
  /** Its host pid, as `docker inspect` reports it. */
  pid: string;
  /** `/proc/<pid>/status` ("" when unreadable). */
  procStatus: string;
  /** The uid the image must run as. */
  uid: number;
}

/** Real and effective uid are the expected non-root uid. */
export const runsAsUid = defineCheck<UidObservation>("runs-as-uid", (o) => {
  const line = /^Uid:\s+(\d+)\s+(\d+)/m.exec(o.procStatus);
  ensure(
    line?.[1] === String(o.uid) && line[2] === String(o.uid),
    `Uid line of pid ${o.pid || "?"}: ${line?.[0] ?? "none"}, expected uid ${o.uid}`,
  );
  return `pid ${o.pid}`;
});

/**
 * Probe checks (K14-K16 of CHECKLIST.md): readiness on the app's ready endpoint, a cheaper
 * liveness probe, and a startup probe whose budget covers the slowest start.
 */
import type { PyfleetResourcePolicy } from "./framework";
import { resourcePolicy } from "./framework";
import { LONG_RUNNING_TYPES, eachContainer, type Container } from "./pods";
import { message, show, type Resource } from "./resource";
import { asArray, asRecord, asString, at, isUnknown } from "./values";

/** Configuration of {@link checkStartupProbe}. */
export interface StartupConfig {
  /** Seconds the startup probe must allow at least. @default 60 */
  minStartupSeconds?: number;
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

/** The probe policies. */
export const probePolicies: PyfleetResourcePolicy[] = [
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
];

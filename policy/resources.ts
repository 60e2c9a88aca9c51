/**
 * Container resources (K11 of CHECKLIST.md): CPU and memory requests, a memory limit (a CPU
 * limit when configured), and no limit below its request.
 */
import type { PyfleetResourcePolicy } from "./framework";
import { resourcePolicy } from "./framework";
import { WORKLOAD_TYPES, eachContainer } from "./pods";
import { message, show, type Resource } from "./resource";
import { asRecord, asString, at, isUnknown } from "./values";
import { quantityValue } from "./vocabulary";

/** Configuration of {@link checkResources}. */
export interface ResourcesConfig {
  /** Whether a CPU limit is required too. @default false */
  requireCpuLimit?: boolean;
}

/** A Kubernetes quantity (`250m`, `1`, `512Mi`) as a number, when it parses. */
export function quantity(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  const text = asString(value);
  return text === undefined ? undefined : quantityValue(text);
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

/** The container resource policies. */
export const resourceRequestPolicies: PyfleetResourcePolicy[] = [
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
];

/**
 * Which environment a workload runs in, for the checks whose rule differs between
 * environments (K17): the pack config names it, else the object's environment label does.
 */
import type { PolicyConfigSchema } from "@pulumi/policy";
import { podOf } from "./pods";
import { labelsOf, type Resource } from "./resource";
import { asRecord, asString } from "./values";
import { ENVIRONMENTS, ENVIRONMENT_LABEL, type Environment } from "./vocabulary";

/** Configuration of the replica policies. */
export interface EnvironmentConfig {
  /** The stack's environment; when unset, the object's `pyfleet.dev/environment` label. */
  environment?: Environment;
}

/**
 * The environment a workload runs in: the configured one, else its `pyfleet.dev/environment`
 * label (object or pod template); undefined when neither is known.
 */
export function environmentOf(resource: Resource, config: EnvironmentConfig): string | undefined {
  if (config.environment !== undefined) return config.environment;
  const own = asString(labelsOf(resource.props)?.[ENVIRONMENT_LABEL]);
  if (own !== undefined) return own;
  const pod = podOf(resource);
  return asString(asRecord(pod?.labels)?.[ENVIRONMENT_LABEL]);
}

/** Config schema of the policies that need the environment (K17). */
export const environmentSchema: PolicyConfigSchema = {
  properties: {
    environment: {
      type: "string",
      enum: [...ENVIRONMENTS],
      description:
        "The stack's environment; when unset, the object's pyfleet.dev/environment label decides.",
    },
  },
};

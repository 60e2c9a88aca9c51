/**
 * Runs the pack's policies over resources the way the Pulumi engine and the `@pulumi/policy`
 * runtime do, without either: pack config reconciled like `--policy-pack-config` (schema
 * defaults, then `all`, then per-policy entries), secrets unwrapped, inputs wrapped in the
 * runtime's unknown-checking proxy, an `UnknownValueError` turned into an advisory preview note.
 * Used by the tests to feed whole-program runs and recorded previews through the pack.
 */
import type {
  EnforcementLevel,
  PolicyConfigSchema,
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  StackValidationArgs,
} from "@pulumi/policy";
import { UnknownValueError, unknownCheckingProxy } from "@pulumi/policy";
import {
  appliesTo,
  type PyfleetResourcePolicy,
  type PyfleetStackPolicy,
} from "../../policy/framework";

/** A `--policy-pack-config` file: `all` and per-policy entries. */
export type PackConfigFile = Record<
  string,
  EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)
>;

/** One policy's reconciled configuration. */
export interface ResolvedPolicyConfig {
  /** Effective enforcement level. */
  enforcementLevel: EnforcementLevel;
  /** Configuration properties, schema defaults filled in. */
  properties: Record<string, unknown>;
}

/** A resource as the engine hands it to the analyzer. */
export interface EngineResource {
  /** Type token. */
  type: string;
  /** Logical name. */
  name: string;
  /** URN. @default a URN made from type and name */
  urn?: string;
  /** Inputs in wire form: secrets may be wrapped, unknowns are sentinel strings. */
  inputs: Record<string, unknown>;
  /** Outputs, for stack policies. @default the inputs */
  outputs?: Record<string, unknown>;
  /** Custom timeouts in seconds. @default all 0 (unset) */
  customTimeouts?: Partial<PolicyResourceOptions["customTimeouts"]>;
  /** The explicit provider's inputs, if any. */
  provider?: { type: string; name: string; urn: string; props: Record<string, unknown> };
}

/** A reported violation. */
export interface Diagnostic {
  /** Policy name. */
  policy: string;
  /** Enforcement level it was reported at. */
  enforcementLevel: EnforcementLevel;
  /** The message the policy reported. */
  message: string;
  /** The resource it concerns. */
  urn?: string;
}

/** What one evaluation found. */
export interface Evaluation {
  /** Violations. */
  violations: Diagnostic[];
  /** Advisory notes for policies that stopped on a value unknown during preview. */
  previewNotes: Diagnostic[];
  /** How many resources each policy was run on. */
  applied: Record<string, number>;
}

type AnyPolicy = PyfleetResourcePolicy | PyfleetStackPolicy;

const LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

function checkLevel(value: unknown, where: string): EnforcementLevel {
  if (typeof value !== "string" || !LEVELS.includes(value as EnforcementLevel)) {
    throw new Error(`${where}: ${JSON.stringify(value)} is not an enforcement level`);
  }
  return value as EnforcementLevel;
}

function checkSchema(
  policy: string,
  schema: PolicyConfigSchema | undefined,
  props: Record<string, unknown>,
): void {
  for (const [key, value] of Object.entries(props)) {
    const property = schema?.properties[key];
    const where = `policy pack config ${policy}.${key}`;
    if (!property) throw new Error(`${where}: the policy declares no such setting`);
    const type = property.type;
    const ok =
      (type === "string" && typeof value === "string") ||
      (type === "boolean" && typeof value === "boolean") ||
      (type === "integer" && Number.isInteger(value)) ||
      (type === "number" && typeof value === "number") ||
      (type === "array" && Array.isArray(value));
    if (!ok) throw new Error(`${where}: expected ${String(type)}, got ${JSON.stringify(value)}`);
    if (property.enum && !property.enum.some((allowed) => allowed === value)) {
      const allowed = property.enum.map((e) => JSON.stringify(e)).join(", ");
      throw new Error(`${where}: ${JSON.stringify(value)} is not one of ${allowed}`);
    }
  }
  for (const key of schema?.required ?? []) {
    if (!(key in props)) throw new Error(`policy pack config ${policy}.${key} is required`);
  }
}

/**
 * Each policy's enforcement level and configuration, as the engine reconciles them: schema
 * defaults and the pack's level, then `all`, then the policy's own entry. Unknown policy names
 * and settings the schema does not declare are errors.
 */
export function reconcileConfig(
  policies: readonly AnyPolicy[],
  file: PackConfigFile = {},
  packLevel: EnforcementLevel = "advisory",
): Map<string, ResolvedPolicyConfig> {
  const result = new Map<string, ResolvedPolicyConfig>();
  const all = file["all"];
  for (const policy of policies) {
    const properties: Record<string, unknown> = {};
    for (const [key, property] of Object.entries(policy.configSchema?.properties ?? {})) {
      if (property.default !== undefined) properties[key] = property.default;
    }
    let level = policy.enforcementLevel ?? packLevel;
    if (all !== undefined) {
      level = checkLevel(typeof all === "string" ? all : all.enforcementLevel, "all");
    }
    const entry = file[policy.name];
    if (typeof entry === "string") {
      level = checkLevel(entry, policy.name);
    } else if (entry !== undefined) {
      const { enforcementLevel, ...rest } = entry;
      if (enforcementLevel !== undefined) level = checkLevel(enforcementLevel, policy.name);
      Object.assign(properties, rest);
    }
    checkSchema(policy.name, policy.configSchema, properties);
    result.set(policy.name, { enforcementLevel: level, properties });
  }
  for (const key of Object.keys(file)) {
    if (key !== "all" && !result.has(key)) {
      throw new Error(`policy pack config names "${key}", which is not a policy of the pack`);
    }
  }
  return result;
}

/**
 * Seconds of a duration as resource options carry it (`"300s"`, `"5m"`, `"1h30m"`), the way the
 * engine converts customTimeouts for the analyzer; 0 when empty.
 */
export function durationSeconds(duration: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  let total = 0;
  for (const [, amount, unit] of duration.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    total += Number(amount) * (units[unit ?? ""] ?? 0);
  }
  return total;
}

const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Wire-form properties as the runtime hands them to validations: secrets unwrapped. */
export function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (record[SECRET_SIG_KEY] === SECRET_SIG) return unwrapSecrets(record["value"]);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(record)) if (v !== undefined) out[k] = unwrapSecrets(v);
    return out;
  }
  return value;
}

function optionsOf(resource: EngineResource): PolicyResourceOptions {
  return {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    additionalSecretOutputs: [],
    customTimeouts: {
      createSeconds: resource.customTimeouts?.createSeconds ?? 0,
      updateSeconds: resource.customTimeouts?.updateSeconds ?? 0,
      deleteSeconds: resource.customTimeouts?.deleteSeconds ?? 0,
    },
  };
}

function urnOf(resource: EngineResource): string {
  return resource.urn ?? `urn:pulumi:stack::project::${resource.type}::${resource.name}`;
}

function notApplicable(reason?: string): never {
  throw new Error(`not applicable: ${reason ?? ""}`);
}

/** The runtime's proxy, which `@pulumi/policy` exports without a type. */
const checkingProxy = unknownCheckingProxy as (value: unknown) => Record<string, unknown>;

function proxied(props: Record<string, unknown>): Record<string, unknown> {
  return checkingProxy(unwrapSecrets(props));
}

/** Runs `policies` over `resources` like a preview with `file` as `--policy-pack-config`. */
export async function evaluate(
  policies: readonly AnyPolicy[],
  resources: readonly EngineResource[],
  file: PackConfigFile = {},
): Promise<Evaluation> {
  const config = reconcileConfig(policies, file);
  const result: Evaluation = { violations: [], previewNotes: [], applied: {} };
  for (const policy of policies) {
    const { enforcementLevel, properties } = config.get(policy.name)!;
    result.applied[policy.name] = 0;
    if (enforcementLevel === "disabled") continue;
    const level = enforcementLevel === "remediate" ? "mandatory" : enforcementLevel;
    const run = async (urn: string | undefined, body: () => void | Promise<void>) => {
      try {
        await body();
      } catch (error) {
        if (!(error instanceof UnknownValueError)) throw error;
        result.previewNotes.push({
          policy: policy.name,
          enforcementLevel: "advisory",
          message: (error as Error).message,
          ...(urn !== undefined ? { urn } : {}),
        });
      }
    };
    if ("validateStack" in policy) {
      result.applied[policy.name] = resources.length;
      const stackResources: PolicyResource[] = resources.map((resource) => ({
        type: resource.type,
        name: resource.name,
        urn: urnOf(resource),
        props: proxied(resource.outputs ?? resource.inputs),
        opts: optionsOf(resource),
        dependencies: [],
        propertyDependencies: {},
        isType: () => false,
        asType: () => undefined,
      }));
      const args: StackValidationArgs = {
        resources: stackResources,
        stackTags: new Map(),
        getConfig: <T extends object>() => properties as T,
        notApplicable,
      };
      await run(undefined, () =>
        policy.validateStack(args, (message, urn) =>
          result.violations.push({
            policy: policy.name,
            enforcementLevel: level,
            message,
            ...(urn !== undefined ? { urn } : {}),
          }),
        ),
      );
      continue;
    }
    for (const resource of resources) {
      if (!appliesTo(policy.rule, resource.type)) continue;
      result.applied[policy.name]! += 1;
      const urn = urnOf(resource);
      const props = proxied(resource.inputs);
      const args: ResourceValidationArgs = {
        type: resource.type,
        name: resource.name,
        urn,
        props,
        opts: optionsOf(resource),
        ...(resource.provider ? { provider: resource.provider } : {}),
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => properties as T,
        notApplicable,
      };
      const validations = [policy.validateResource ?? []].flat();
      for (const validate of validations) {
        await run(urn, () =>
          validate(args, (message) =>
            result.violations.push({ policy: policy.name, enforcementLevel: level, message, urn }),
          ),
        );
      }
    }
  }
  return result;
}

/**
 * Wraps the pure checks into CrossGuard policies. A check takes plain data and returns messages;
 * the wrapper filters by type, turns the runtime's (proxied) inputs into plain data once and
 * reports each message.
 */
import type {
  PolicyConfigSchema,
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  Severity,
  StackValidationPolicy,
} from "@pulumi/policy";
import type { Resource } from "./resource";
import { asRecord, plain } from "./values";

/** What every pyfleet policy declares besides its check. */
interface RuleInfo {
  /** Policy name, unique in the pack. */
  name: string;
  /** One sentence: what the policy requires. */
  description: string;
  /** CHECKLIST.md ids the policy enforces. */
  checklist: readonly string[];
  /** Severity shown with violations. */
  severity: Severity;
  /** How to fix a violation. */
  remediationSteps: string;
  /** JSON schema of the policy's configuration. */
  configSchema?: PolicyConfigSchema;
}

/** A resource check and the types it applies to. */
export interface ResourceRule<C extends object = Record<string, never>> extends RuleInfo {
  /** Type tokens the check applies to, or a predicate over them. */
  types: readonly string[] | ((type: string) => boolean);
  /** The pure check: one message per violation. */
  check: (resource: Resource, config: Partial<C>) => string[];
}

/** A violation found by a stack check, reported against one resource when `urn` is set. */
export interface StackFinding {
  /** The message. */
  message: string;
  /** URN of the resource in violation. */
  urn?: string;
}

/** A check over every resource of the stack. */
export interface StackRule<C extends object = Record<string, never>> extends RuleInfo {
  /** The pure check. */
  check: (resources: Resource[], config: Partial<C>) => StackFinding[];
}

/** A resource policy carrying its rule, so tests and tools can reach the pure check. */
export type PyfleetResourcePolicy = ResourceValidationPolicy & { rule: ResourceRule<object> };
/** A stack policy carrying its rule. */
export type PyfleetStackPolicy = StackValidationPolicy & { rule: StackRule<object> };

function metadata(rule: RuleInfo) {
  return {
    name: rule.name,
    description: rule.description,
    severity: rule.severity,
    tags: [...rule.checklist],
    remediationSteps: rule.remediationSteps,
    ...(rule.configSchema ? { configSchema: rule.configSchema } : {}),
  };
}

/** True when `rule` applies to resources of `type`. */
export function appliesTo(rule: Pick<ResourceRule<object>, "types">, type: string): boolean {
  return typeof rule.types === "function" ? rule.types(type) : rule.types.includes(type);
}

/** The plain view of the runtime's validation arguments. */
export function fromArgs(args: ResourceValidationArgs): Resource {
  const provider = args.provider ? asRecord(plain(args.provider.props)) : undefined;
  return {
    type: args.type,
    name: args.name,
    props: asRecord(plain(args.props)) ?? {},
    ...(args.opts ? { opts: { customTimeouts: args.opts.customTimeouts } } : {}),
    ...(provider ? { provider: { props: provider } } : {}),
    urn: args.urn,
  };
}

function fromPolicyResource(resource: PolicyResource): Resource {
  return {
    type: resource.type,
    name: resource.name,
    props: asRecord(plain(resource.props)) ?? {},
    ...(resource.opts ? { opts: { customTimeouts: resource.opts.customTimeouts } } : {}),
    urn: resource.urn,
  };
}

/** A CrossGuard resource policy running `rule.check` on the resources it applies to. */
export function resourcePolicy<C extends object>(rule: ResourceRule<C>): PyfleetResourcePolicy {
  return {
    ...metadata(rule),
    rule,
    validateResource: (args, reportViolation) => {
      if (!appliesTo(rule, args.type)) return;
      const config = args.getConfig<Partial<C>>();
      for (const text of rule.check(fromArgs(args), config)) reportViolation(text);
    },
  };
}

/** A CrossGuard stack policy running `rule.check` over every resource of the stack. */
export function stackPolicy<C extends object>(rule: StackRule<C>): PyfleetStackPolicy {
  return {
    ...metadata(rule),
    rule,
    validateStack: (args, reportViolation) => {
      const config = args.getConfig<Partial<C>>();
      for (const finding of rule.check(args.resources.map(fromPolicyResource), config)) {
        reportViolation(finding.message, finding.urn);
      }
    },
  };
}

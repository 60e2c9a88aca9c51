/**
 * The plain view of one resource the checks judge, and the shape of their messages: every
 * message names the resource, the field and the fix, and ends with the checklist id (the policy
 * name where the checklist has none).
 */
import { asRecord, asString, at } from "./values";

/** Custom timeouts in seconds, as the engine reports them (0 when unset). */
export interface Timeouts {
  /** Create timeout. */
  createSeconds: number;
  /** Update timeout. */
  updateSeconds: number;
  /** Delete timeout. */
  deleteSeconds: number;
}

/** One resource as a check sees it: plain data, unknown values as `UNKNOWN`. */
export interface Resource {
  /** Type token, e.g. `kubernetes:apps/v1:Deployment`. */
  type: string;
  /** Pulumi logical name. */
  name: string;
  /** Inputs (resource policies) or outputs (stack policies). */
  props: Record<string, unknown>;
  /** Resource options the engine passes along; absent when not known. */
  opts?: { customTimeouts?: Timeouts };
  /** The provider's inputs, when the resource has an explicit provider. */
  provider?: { props: Record<string, unknown> };
  /** URN, for stack policies that report against one resource. */
  urn?: string;
}

/** The last segment of a type token: `Deployment`, `Image`. */
export function kindOf(type: string): string {
  return type.split(":").pop() ?? type;
}

/** `Deployment "api"`, with the Kubernetes name added when it differs from the logical one. */
export function subject(resource: Resource): string {
  const metadataName = asString(at(resource.props, "metadata", "name"));
  const suffix =
    metadataName !== undefined && metadataName !== resource.name ? ` (${metadataName})` : "";
  return `${kindOf(resource.type)} "${resource.name}"${suffix}`;
}

/** `<subject>: <problem>; <fix> (<id>).` */
export function message(resource: Resource, problem: string, fix: string, id: string): string {
  return `${subject(resource)}: ${problem}; ${fix} (${id}).`;
}

/** A value for a message: strings quoted, everything else as JSON. */
export function show(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : JSON.stringify(value);
}

/** The object's labels (`metadata.labels`), when known. */
export function labelsOf(props: unknown): Record<string, unknown> | undefined {
  return asRecord(at(props, "metadata", "labels"));
}

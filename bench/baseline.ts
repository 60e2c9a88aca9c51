/**
 * The baseline of `npm run bench:eval`: a plain Pulumi program that registers what pyfleet
 * registered, with the same inputs, parents, providers and dependencies, through the same SDK
 * classes a hand-written program would call (`new k8s.apps.v1.Deployment(name, inputs, opts)`),
 * and none of pyfleet's logic: no settings, no model. Where pyfleet passed another resource's
 * property (an Output), the baseline passes an Output of that resource too, and its components
 * register the same outputs: the dataflow any program with these resources has.
 */
import * as dockerBuild from "@pulumi/docker-build";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ImageSize, type ImageSizeArgs } from "../components/imageSize";
import { RegistryTag, type RegistryTagArgs } from "../components/registryTag";
import { RunHistory, type RunHistoryArgs } from "../components/runHistory";
import { SmokeCheck, type SmokeCheckArgs } from "../components/smokeCheck";
import type { Registration } from "./registrations";

type Constructor = new (
  name: string,
  inputs: Record<string, unknown>,
  opts: pulumi.CustomResourceOptions,
) => pulumi.Resource;

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/**
 * pyfleet's dynamic resources (registry-side checks and tags): a program doing the same work
 * needs a dynamic provider too, so the baseline registers them through the same classes, with
 * the recorded arguments.
 */
type Inputs = Record<string, unknown>;

/** The recorded inputs without what the resource classes add themselves. */
function argsOf(inputs: Inputs, added: readonly string[]): Inputs {
  return Object.fromEntries(
    Object.entries(inputs).filter(([k]) => k !== "__provider" && !added.includes(k)),
  );
}

class ReplayedImageSize extends ImageSize {
  constructor(name: string, inputs: Inputs, opts: pulumi.CustomResourceOptions) {
    super(name, argsOf(inputs, ["bytes", "largest"]) as unknown as ImageSizeArgs, opts);
  }
}

class ReplayedRegistryTag extends RegistryTag {
  constructor(name: string, inputs: Inputs, opts: pulumi.CustomResourceOptions) {
    super(name, argsOf(inputs, ["taggedAt"]) as unknown as RegistryTagArgs, opts);
  }
}

class ReplayedRunHistory extends RunHistory {
  constructor(name: string, inputs: Inputs, opts: pulumi.CustomResourceOptions) {
    super(name, argsOf(inputs, ["history"]) as unknown as RunHistoryArgs, opts);
  }
}

class ReplayedSmokeCheck extends SmokeCheck {
  constructor(name: string, inputs: Inputs, opts: pulumi.CustomResourceOptions) {
    super(name, argsOf(inputs, ["verification"]) as unknown as SmokeCheckArgs, opts);
  }
}

const DYNAMIC: Record<string, Constructor> = {
  "pulumi-nodejs:dynamic/pyfleet:ImageSize": ReplayedImageSize,
  "pulumi-nodejs:dynamic/pyfleet:RegistryTag": ReplayedRegistryTag,
  "pulumi-nodejs:dynamic/pyfleet:RunHistory": ReplayedRunHistory,
  "pulumi-nodejs:dynamic/pyfleet:SmokeCheck": ReplayedSmokeCheck,
};

/** The SDK class of a resource type; throws for a type this baseline does not know yet. */
function sdkClass(type: string): Constructor {
  if (type === "pulumi:providers:kubernetes") return k8s.Provider;
  const dynamic = DYNAMIC[type];
  if (dynamic) return dynamic;
  if (type === "docker-build:index:Image") return dockerBuild.Image as unknown as Constructor;
  // kubernetes:<group>/<version>:<Kind>; the SDK names the module by the group's first label.
  const match = /^kubernetes:([^/]+)\/([^:]+):(\w+)$/.exec(type);
  if (match) {
    const [, group, version, kind] = match as unknown as [string, string, string, string];
    const modules = k8s as unknown as Record<string, Record<string, Record<string, unknown>>>;
    const found = modules[group.split(".")[0]!]?.[version]?.[kind];
    if (typeof found === "function") return found as Constructor;
  }
  throw new Error(
    `bench baseline: no SDK class for ${type}; add it to sdkClass in bench/baseline.ts`,
  );
}

/** Turns recorded secret wrappers back into secret inputs, as a program would write them. */
function revive(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revive);
  if (value === null || typeof value !== "object") return value;
  const object = value as Record<string, unknown>;
  if (object[SECRET_SIG] === SECRET_SIG_VALUE) return pulumi.secret(revive(object["value"]));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(object)) out[key] = revive(inner);
  return out;
}

/** A component a program defines: registers its outputs as pyfleet's components do. */
class Component extends pulumi.ComponentResource {
  finish(outputs: Record<string, unknown>): void {
    this.registerOutputs(outputs);
  }
}

/** Path segments of `spec.rules[0].http.paths[0].backend.service.name`. */
function segments(path: string): (string | number)[] {
  return path
    .split(/\.|(?=\[)/)
    .map((part) => (/^\[\d+\]$/.test(part) ? Number(part.slice(1, -1)) : part));
}

/**
 * Puts the value at each path back as an Output, the way a hand-written program passes another
 * resource's property (`serviceAccountName: account.metadata.name`); the dependency itself is
 * the recorded `dependsOn`.
 */
function asOutputs(
  inputs: Record<string, unknown>,
  paths: readonly string[],
): Record<string, unknown> {
  for (const path of paths) {
    const keys = segments(path);
    let holder = inputs as Record<string | number, unknown>;
    for (const key of keys.slice(0, -1)) holder = holder[key] as Record<string | number, unknown>;
    const last = keys.at(-1)!;
    const value = holder[last];
    holder[last] = pulumi.output(value);
  }
  return inputs;
}

/** Registers every recorded resource; returns how many it created. */
export function replayRegistrations(registrations: readonly Registration[]): number {
  const byUrn = new Map<string, pulumi.Resource>();
  const find = (urn: string, role: string, of: Registration): pulumi.Resource => {
    const found = byUrn.get(urn);
    if (!found) throw new Error(`bench baseline: ${of.name}'s ${role} ${urn} was not created`);
    return found;
  };
  for (const r of registrations) {
    const opts: pulumi.CustomResourceOptions = {};
    if (r.parent) opts.parent = find(r.parent, "parent", r);
    if (r.provider) {
      const urn = r.provider.slice(0, r.provider.lastIndexOf("::"));
      opts.provider = find(urn, "provider", r) as pulumi.ProviderResource;
    }
    if (r.dependencies.length > 0) {
      opts.dependsOn = r.dependencies.map((urn) => find(urn, "dependency", r));
    }
    const inputs = asOutputs(
      revive(r.inputs) as Record<string, unknown>,
      // The provider class wraps its own inputs in Outputs; so does the SDK for the baseline.
      r.type.startsWith("pulumi:providers:") ? [] : (r.outputInputs ?? []),
    );
    const resource = r.custom
      ? new (sdkClass(r.type))(r.name, inputs, opts)
      : new Component(r.type, r.name, {}, opts);
    byUrn.set(r.urn, resource);
  }
  // Components register their outputs once their children exist, as pyfleet's do.
  for (const r of registrations) {
    const resource = byUrn.get(r.urn);
    if (r.outputs && resource instanceof Component) {
      const outputs = revive(r.outputs) as Record<string, unknown>;
      for (const key of r.outputOutputs ?? []) outputs[key] = pulumi.output(outputs[key]);
      resource.finish(outputs);
    }
  }
  return byUrn.size;
}

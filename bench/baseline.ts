/**
 * The baseline of `npm run bench:eval`: a plain Pulumi program that registers what pyfleet
 * registered, with the same inputs, parents, providers and dependencies, through the same SDK
 * classes a hand-written program would call (`new k8s.apps.v1.Deployment(name, inputs, opts)`),
 * and none of pyfleet's logic: no settings, no model, no components of its own.
 */
import * as dockerBuild from "@pulumi/docker-build";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Registration } from "./registrations";

type Constructor = new (
  name: string,
  inputs: Record<string, unknown>,
  opts: pulumi.CustomResourceOptions,
) => pulumi.Resource;

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/** The SDK class of a resource type; throws for a type this baseline does not know yet. */
function sdkClass(type: string): Constructor {
  if (type === "pulumi:providers:kubernetes") return k8s.Provider;
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
    const resource = r.custom
      ? new (sdkClass(r.type))(r.name, revive(r.inputs) as Record<string, unknown>, opts)
      : new pulumi.ComponentResource(r.type, r.name, {}, opts);
    byUrn.set(r.urn, resource);
  }
  return byUrn.size;
}

/**
 * A recording Pulumi mock: every registered resource's inputs are kept, and each resource type
 * gets the computed fields its real provider would return (a digest for images, a generated
 * name for Kubernetes objects, outputs for stack references).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { acceptErrorHooks } from "../../cli/offlineProgram";
import { parse as parseYaml } from "yaml";

/** One registered resource. */
export interface Recorded {
  /** Resource type token, e.g. `kubernetes:apps/v1:Deployment`. */
  type: string;
  /** Logical name. */
  name: string;
  /** Inputs as the provider would receive them. */
  inputs: Record<string, unknown>;
  /** The state the mock returned. */
  state: Record<string, unknown>;
}

/** Options of {@link installMocks}. */
export interface MockOptions {
  /** Stack name. */
  stack: string;
  /** Project name. @default "pyfleet" */
  project?: string;
  /** Full config map (`pyfleet:key` -> raw string). */
  config: Record<string, string>;
  /** Full keys of secret config values. @default [] */
  secretKeys?: string[];
  /** Outputs of stacks the program references, by stack reference name. @default {} */
  stackOutputs?: Record<string, Record<string, unknown>>;
}

/** A fake but well-formed digest derived from a name. */
export function fakeDigest(seed: string): string {
  return `sha256:${createHash("sha256").update(seed).digest("hex")}`;
}

/** Installs config and mocks; call before importing the program. */
export async function installMocks(options: MockOptions): Promise<Recorded[]> {
  const recorded: Recorded[] = [];
  pulumi.runtime.setAllConfig(options.config, options.secretKeys ?? []);
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        const inputs = args.inputs as Record<string, unknown>;
        let state: Record<string, unknown> = { ...inputs };
        if (args.type === "docker-build:index:Image") {
          const digest = fakeDigest(args.name + JSON.stringify(inputs["tags"]));
          state = {
            ...inputs,
            digest,
            ref: `${String((inputs["tags"] as string[])[0])}@${digest}`,
          };
        } else if (args.type === "pulumi:pulumi:StackReference") {
          const name = String(inputs["name"]);
          state = { name, outputs: options.stackOutputs?.[name] ?? {}, secretOutputNames: [] };
        } else if (args.type === "pulumi-nodejs:dynamic/pyfleet:ImageEvidence") {
          state = { ...inputs, evidenceOf: inputs["image"], signed: true, signer: "0".repeat(64) };
        } else if (args.type === "pulumi-nodejs:dynamic/pyfleet:RegistryTag") {
          state = { ...inputs, taggedAt: "2026-11-01T12:00:00.000Z" };
        } else if (args.type.startsWith("kubernetes:")) {
          const metadata = (inputs["metadata"] ?? {}) as Record<string, unknown>;
          state = {
            ...inputs,
            metadata: { ...metadata, name: metadata["name"] ?? `${args.name}-m0ck3d` },
          };
        }
        recorded.push({ type: args.type, name: args.name, inputs, state });
        return { id: `${args.name}-id`, state };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        return args.inputs;
      },
    },
    options.project ?? "pyfleet",
    options.stack,
    false,
  );
  acceptErrorHooks();
  return recorded;
}

/** Resolves an Output in a test. */
export function resolve<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((done) => output.apply(done));
}

/** Waits until no new resources were registered for a few event-loop turns. */
export async function settle(recorded: Recorded[]): Promise<void> {
  let last = -1;
  let stable = 0;
  for (let i = 0; i < 200 && stable < 5; i++) {
    await new Promise((r) => setTimeout(r, 5));
    stable = recorded.length === last ? stable + 1 : 0;
    last = recorded.length;
  }
}

/** The `pyfleet:*` config of a committed stack file, as Pulumi hands it to the program. */
export function stackFileConfig(stack: string): Record<string, string> {
  const file = path.resolve(__dirname, "..", "..", `Pulumi.${stack}.yaml`);
  const doc = parseYaml(readFileSync(file, "utf8")) as { config?: Record<string, unknown> };
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return config;
}

/** Recorded resources of one type. */
export function ofType(recorded: readonly Recorded[], type: string): Recorded[] {
  return recorded.filter((r) => r.type === type);
}

/** Counts of recorded resources by type. */
export function countByType(recorded: readonly Recorded[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of recorded) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return counts;
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/** Unwraps a value the engine would store encrypted; throws if it is not a secret. */
export function secretValue(value: unknown): unknown {
  const wrapped = value as Record<string, unknown> | undefined;
  if (wrapped?.[SECRET_SIG] !== SECRET_SIG_VALUE) {
    throw new Error(`expected a secret, got ${JSON.stringify(value)}`);
  }
  return wrapped["value"];
}

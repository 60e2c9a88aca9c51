/**
 * Runs the program in this process on Pulumi's mock runtime: every resource it would register
 * is recorded with its inputs, and nothing reaches an engine, a Docker daemon, a registry or a
 * cluster. `validate` checks what it records; `render` writes the Kubernetes objects as YAML.
 * Images are never built: build-mode apps get a digest derived from their inputs, promoting
 * stacks read the source stack's apps from `sourceApps` (placeholders when unknown).
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { repositoryFor } from "../model/imagePlan";
import type { AppOutput } from "../model/promotion";
import { offlineConfig, offlineSettings } from "../stacks/offline";
import { OFFLINE_VARIABLE } from "../components/supplyChain";
import type { Settings } from "../stacks/types";

/** One resource the program registered. */
export interface RecordedResource {
  /** Type token. */
  type: string;
  /** Logical name. */
  name: string;
  /** Inputs, secrets unwrapped. */
  inputs: Record<string, unknown>;
  /** What the mock returned (inputs plus computed fields). */
  state: Record<string, unknown>;
  /** customTimeouts, in seconds (0 when unset). */
  customTimeouts: { createSeconds: number; updateSeconds: number; deleteSeconds: number };
}

/** Options of {@link runOffline}. */
export interface OfflineRunOptions {
  /** Config keys (full, `pyfleet:renderDir`) to set or, with undefined, remove. */
  overrides?: Record<string, string | undefined>;
  /** The source stack's `apps` output for promoting stacks; placeholders when absent. */
  sourceApps?: Record<string, AppOutput>;
  /** Stack config file to read instead of `Pulumi.<stack>.yaml`. */
  configFile?: string;
  /** Digests to report for built images, by app (e.g. what the stack runs now). */
  imageDigests?: Record<string, string>;
}

/** What one offline run produced. */
export interface OfflineRun {
  /** The stack's settings. */
  settings: Settings;
  /** Every registered resource, in registration order. */
  resources: RecordedResource[];
  /** Resolved stack outputs. */
  outputs: Record<string, unknown>;
}

/** A digest that is clearly not a real one: 64 hex digits derived from a seed. */
export function placeholderDigest(seed: string): string {
  return `sha256:${createHash("sha256").update(`pyfleet-offline:${seed}`).digest("hex")}`;
}

const EPOCH = new Date(0).toISOString();

/** Source outputs a promoting stack can run on when the real ones are not known. */
export function placeholderSourceApps(settings: Settings): Record<string, AppOutput> {
  const apps: Record<string, AppOutput> = {};
  if (settings.images.mode !== "promote") return apps;
  const { pins, fromStack } = settings.images;
  for (const app of settings.apps) {
    const repository = repositoryFor(settings.registry, app.name);
    const pinned = pins[app.name]?.split("@")[1];
    const digest = pinned ?? placeholderDigest(`${fromStack}/${app.name}`);
    apps[app.name] = {
      image: `${repository}@${digest}`,
      digest,
      repository,
      ...(app.version !== undefined ? { version: app.version } : {}),
      tags: [],
      namespace: settings.namespace,
      source: { stack: fromStack, kind: "build" },
      // Offline checks judge the objects, not the promotion gates (the real `up` does, on the
      // source's real history): a placeholder has soaked and verified since the epoch.
      history: [{ digest, since: EPOCH, verification: { passed: true, at: EPOCH, failures: [] } }],
    };
  }
  return apps;
}

const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";

function unwrap(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrap);
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (SECRET_SIG_KEY in record) return unwrap(record["value"]);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(record)) if (v !== undefined) out[k] = unwrap(v);
    return out;
  }
  return value;
}

function seconds(duration: string | undefined): number {
  const match = /^(\d+)s$/.exec(duration ?? "");
  return match ? Number(match[1]) : 0;
}

// The mock monitor drops resource options; the policy pack judges customTimeouts.
const timeouts = new Map<string, { create: string; update: string; delete: string }>();
/**
 * The SDK's mock monitor takes resource hooks but not error hooks (the Deployments' rollout
 * diagnosis on a live cluster): accept them as the engine does, without ever calling them.
 */
export function acceptErrorHooks(): void {
  const monitor = MockMonitor.prototype as unknown as Record<string, unknown>;
  monitor["registerErrorHook"] ??= (_request: unknown, callback: (e: null, r: object) => void) =>
    callback(null, {});
}

let patched = false;
function recordTimeouts(): void {
  if (patched) return;
  patched = true;
  type Register = (this: MockMonitor, req: unknown, callback: unknown) => Promise<void>;
  const register = Object.getOwnPropertyDescriptor(MockMonitor.prototype, "registerResource")!
    .value as Register;
  const wrapped: Register = function (this: MockMonitor, req, callback) {
    const r = req as {
      getType(): string;
      getName(): string;
      getCustomtimeouts():
        { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
    };
    const t = r.getCustomtimeouts();
    timeouts.set(`${r.getType()}::${r.getName()}`, {
      create: t?.getCreate() ?? "",
      update: t?.getUpdate() ?? "",
      delete: t?.getDelete() ?? "",
    });
    return register.call(this, req, callback);
  };
  MockMonitor.prototype.registerResource = wrapped as typeof MockMonitor.prototype.registerResource;
}

async function resolveDeep(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    const inner = await new Promise<unknown>((done) => value.apply(done));
    return resolveDeep(inner);
  }
  if (Array.isArray(value)) return Promise.all(value.map(resolveDeep));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await resolveDeep(v);
    return out;
  }
  return value;
}

/**
 * Resolves the stack's settings (throwing `SettingsError` on bad input), then runs the program
 * once on the mock runtime and returns everything it registered.
 */
export async function runOffline(
  stack: string,
  options: OfflineRunOptions = {},
): Promise<OfflineRun> {
  const settingsOptions = options.configFile ? { configFile: options.configFile } : {};
  const { config, secretKeys } = offlineConfig(stack, undefined, settingsOptions);
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value === undefined) delete config[key];
    else config[key] = value;
  }
  // Settings problems are reported before anything runs, all at once.
  const settings = offlineSettings(stack, undefined, settingsOptions);
  const sourceApps = options.sourceApps ?? placeholderSourceApps(settings);

  // The program reads the local settings itself; they are already part of `config`.
  process.env["PYFLEET_LOCAL_SETTINGS"] = "none";
  // Placeholder digests: signatures are verified by the real preview and up, not here.
  process.env[OFFLINE_VARIABLE] = "1";
  const resources: RecordedResource[] = [];
  recordTimeouts();
  acceptErrorHooks();
  pulumi.runtime.setAllConfig(config, secretKeys);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const inputs = unwrap(args.inputs) as Record<string, unknown>;
        let state: Record<string, unknown> = { ...inputs };
        if (args.type === "docker-build:index:Image") {
          state = {
            ...inputs,
            digest:
              options.imageDigests?.[args.name.replace(/-image$/, "")] ??
              placeholderDigest(args.name + JSON.stringify(inputs["tags"])),
          };
        } else if (args.type === "pulumi:pulumi:StackReference") {
          state = { name: inputs["name"], outputs: { apps: sourceApps }, secretOutputNames: [] };
        } else if (args.type === "pulumi-nodejs:dynamic/pyfleet:RegistryTag") {
          state = { ...inputs, taggedAt: new Date(0).toISOString() };
        } else if (args.type === "pulumi-nodejs:dynamic/pyfleet:ImageEvidence") {
          // What the update records: the digest this stack signs, or the one it verified.
          const verified = inputs["verified"] as { signed?: boolean } | undefined;
          state = {
            ...inputs,
            evidenceOf: inputs["image"],
            signed: inputs["mode"] === "sign" || verified?.signed === true,
          };
        } else if (args.type.startsWith("kubernetes:")) {
          const metadata = (inputs["metadata"] ?? {}) as Record<string, unknown>;
          // Auto-named objects get their logical name: deterministic, and what an operator
          // applying rendered files expects.
          state = { ...inputs, metadata: { ...metadata, name: metadata["name"] ?? args.name } };
          inputs["metadata"] = state["metadata"];
        }
        const t = timeouts.get(`${args.type}::${args.name}`);
        resources.push({
          type: args.type,
          name: args.name,
          inputs,
          state,
          customTimeouts: {
            createSeconds: seconds(t?.create),
            updateSeconds: seconds(t?.update),
            deleteSeconds: seconds(t?.delete),
          },
        });
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs as Record<string, unknown>,
    },
    settings.project,
    stack,
    false,
  );
  const program = (await import("../index")).default;
  const raw = await program();
  const outputs = (await resolveDeep(raw)) as Record<string, unknown>;
  // Components register children asynchronously; wait until the count stops changing.
  let last = -1;
  for (let stable = 0, i = 0; i < 400 && stable < 5; i++) {
    await new Promise((r) => setTimeout(r, 5));
    stable = resources.length === last ? stable + 1 : 0;
    last = resources.length;
  }
  return { settings, resources, outputs };
}

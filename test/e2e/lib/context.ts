/**
 * What the scenarios share: the local engine, the project copy they run on, its stack config
 * files, and the facts one scenario hands to the next (dev's outputs after its `up`).
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import {
  LOCAL_PASSPHRASE,
  ROOT,
  localOverrides,
  writeOverlayConfig,
  type LocalEnv,
} from "../../../infra/localEnv";
import { LOCAL_CLUSTER_APP_RESOURCES, type LocalCluster } from "../../../infra/cluster";
import { KUBECTL_VARIABLE } from "../../../components/cluster";
import type { AppOut } from "../checks/observed";
import { Kube } from "./kube";
import { Pulumi } from "./pulumi";
import type { Processes } from "./processes";
import { copyProject } from "./project";
import type { Recorder } from "./recorder";

/** The pip apps: built, pushed and run by the scenarios. */
export const PIP_APPS = ["dashboard", "vectors"] as const;

/**
 * The conda app: built against the local conda channel and deployed in the cluster pass; the
 * render pass leaves it out, which its "left out as configured" check relies on.
 */
export const CONDA_APP = "science";

/** Everything a scenario works with. */
export interface Context {
  /** The local engine. */
  local: LocalEnv;
  /** Temporary folder of this run (removed at the end). */
  work: string;
  /** The project copy the scenarios change and run. */
  project: string;
  /** Where logs and artefacts of the run go. */
  reports: string;
  /** Environment of Pulumi and docker commands. */
  env: NodeJS.ProcessEnv;
  /** Pulumi on the project copy and the run's file backend. */
  pulumi: Pulumi;
  /** Processes the scenarios start. */
  processes: Processes;
  /** Verdicts and figures. */
  recorder: Recorder;
  /** Overrides that point a stack at the local engine. */
  overrides: Record<string, unknown>;
  /**
   * dev's stack config files: every app, the pip apps only, a bad one, and `dev`, the one this
   * pass deploys dev with (every app in the cluster pass where the conda channel is served,
   * the pip apps otherwise).
   */
  config: { all: string; pip: string; bad: string; dev: string };
  /** The apps `config.dev` and the promoting stacks deploy. */
  apps: readonly string[];
  /** Folder dev's manifests are rendered to (render mode only). */
  renderDir: string;
  /** The cluster the stacks deploy to; undefined in render mode. */
  cluster?: { local: LocalCluster; kube: Kube };
  /** Writes a config file of a promoting stack (the apps of `apps`) and returns its path. */
  promoteConfig(stack: "staging" | "prod", extra?: Record<string, unknown>): string;
  /** What the scenarios learnt so far. */
  facts: {
    /** dev's `apps` output after its first up ({} when it failed). */
    devApps: Record<string, AppOut>;
    /** Seconds of dev's first up. */
    coldUpSeconds: number;
  };
}

/**
 * The namespace a stack deploys to in the harness's cluster pass: not the stacks' default
 * `pyfleet-<stack>`, so the harness never adopts (and then destroys) what a quick start or
 * a user deployed to the same cluster. Its Ingress hosts differ from theirs for the same
 * reason (clusterOverrides).
 */
export function e2eNamespace(stack: string): string {
  return `pyfleet-e2e-${stack}`;
}

/** The stack settings that deploy `stack` to `cluster` instead of rendering. */
function clusterOverrides(
  cluster: LocalCluster,
  stack: string,
  apps: readonly string[],
): Record<string, unknown> {
  return {
    "pyfleet:kubeContext": cluster.context,
    "pyfleet:namespace": e2eNamespace(stack),
    // Hosts of their own too: Traefik would otherwise share a host between both namespaces.
    "pyfleet:ingress": { hostPattern: "{app}.e2e-{env}.localhost" },
    // Verification reaches the Ingress through Traefik's address on the host.
    "pyfleet:verification": { via: cluster.ingress },
    "pyfleet:apps": Object.fromEntries(
      apps.map((app) => [app, { resources: LOCAL_CLUSTER_APP_RESOURCES }]),
    ),
  };
}

/**
 * Sets up the project copy, the backend and the config files of a run in `work`: stacks
 * render to folders, or, given a cluster, deploy to it.
 */
export function createContext(
  local: LocalEnv,
  work: string,
  reports: string,
  processes: Processes,
  recorder: Recorder,
  cluster?: LocalCluster,
): Context {
  const project = path.join(work, "project");
  copyProject(ROOT, project, { withGit: true });
  const state = path.join(work, "state");
  mkdirSync(state, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...local.env,
    PULUMI_BACKEND_URL: `file://${state}`,
    PULUMI_CONFIG_PASSPHRASE: LOCAL_PASSPHRASE,
    // The Deployments' rollout diagnosis asks the cluster with its own kubectl.
    ...(cluster ? { KUBECONFIG: cluster.kubeconfig, [KUBECTL_VARIABLE]: cluster.kubectl } : {}),
  };
  const renderDir = path.join(project, "rendered", "dev");
  const withConda = cluster !== undefined && local.condaChannelUrl !== undefined;
  const apps: readonly string[] = withConda ? [...PIP_APPS, CONDA_APP] : PIP_APPS;
  const target = cluster ? clusterOverrides(cluster, "dev", apps) : {};
  const base = localOverrides(local, renderDir);
  if (cluster) {
    // The engine by settings, as the quick start writes them (the render pass leaves them out:
    // its upgrade scenario runs versions of the program that do not know these settings).
    base["pyfleet:build"] = {
      ...(base["pyfleet:build"] as Record<string, unknown>),
      dockerHost: local.env["DOCKER_HOST"],
      dockerConfig: local.env["DOCKER_CONFIG"],
    };
  }
  const overrides = withTarget(base, target);
  const pipOnly = withTarget(
    { "pyfleet:apps": { [CONDA_APP]: { enabled: false } } },
    cluster ? { "pyfleet:apps": target["pyfleet:apps"] } : {},
  );
  const config = {
    all: path.join(work, "config", "all.yaml"),
    pip: path.join(work, "config", "pip.yaml"),
    bad: path.join(work, "config", "bad.yaml"),
    dev: "",
  };
  config.dev = withConda ? config.all : config.pip;
  const promoted = withConda ? {} : pipOnly;
  writeOverlayConfig("dev", config.all, overrides, project);
  writeOverlayConfig("dev", config.pip, { ...overrides, ...pipOnly }, project);
  writeOverlayConfig(
    "dev",
    config.bad,
    { ...overrides, ...pipOnly, "pyfleet:replicas": -1 },
    project,
  );

  const log = path.join(reports, "pulumi.log");
  mkdirSync(reports, { recursive: true });
  writeFileSync(log, "");
  const bin = local.env["PYFLEET_PULUMI_BIN"];
  if (!bin) throw new Error("the local engine did not name the toolchain (PYFLEET_PULUMI_BIN)");
  return {
    local,
    work,
    project,
    reports,
    env,
    pulumi: new Pulumi({ project, env, bin, log, processes }),
    processes,
    recorder,
    overrides,
    config,
    apps,
    renderDir,
    ...(cluster ? { cluster: { local: cluster, kube: new Kube(cluster, processes) } } : {}),
    promoteConfig(stack, extra = {}) {
      // One file per distinct config: the same extra settings name the same file.
      const key = createHash("sha256").update(JSON.stringify(extra)).digest("hex").slice(0, 8);
      const file = path.join(work, "config", `${stack}-${key}.yaml`);
      const base = withTarget(
        {
          "pyfleet:registry": `${local.registryName}/pyfleet`,
          ...(cluster ? {} : { "pyfleet:renderDir": path.join(project, "rendered", stack) }),
          ...promoted,
        },
        cluster ? clusterOverrides(cluster, stack, apps) : {},
      );
      // The extra settings on top, app by app: an app's override keeps its cluster resources.
      writeOverlayConfig(stack, file, withTarget(base, extra), project);
      return file;
    },
    facts: { devApps: {}, coldUpSeconds: 0 },
  };
}

/** `base` with `target`'s keys on top: `pyfleet:apps` merged app by app, the rest replaced. */
function withTarget(
  base: Record<string, unknown>,
  target: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base, ...target };
  const apps = (o: Record<string, unknown>) =>
    (o["pyfleet:apps"] ?? {}) as Record<string, Record<string, unknown>>;
  const merged: Record<string, Record<string, unknown>> = { ...apps(base) };
  for (const [app, override] of Object.entries(apps(target))) {
    merged[app] = { ...(merged[app] ?? {}), ...override };
  }
  if (Object.keys(merged).length > 0) out["pyfleet:apps"] = merged;
  if (target["pyfleet:kubeContext"] !== undefined) delete out["pyfleet:renderDir"];
  return out;
}

/** One step of the end-to-end run: observes the real engine and records checks. */
export interface Scenario {
  /** Short name, for the report when it throws. */
  name: string;
  /** Runs the scenario; checks are recorded on `ctx.recorder`. */
  run(ctx: Context): Promise<void>;
}

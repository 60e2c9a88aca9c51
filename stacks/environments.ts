/**
 * The one defaults table: what each environment gets unless its stack config says otherwise.
 * Environment differences live here and in `Pulumi.<stack>.yaml`, never in `if (env === ...)`.
 */
import type {
  AutoscalingSettings,
  BaseImages,
  CondaInstaller,
  Environment,
  ResourceSettings,
  RolloutSettings,
  Settings,
  Severity,
  TagPolicy,
} from "./types";

/** Defaults of one environment. */
export interface EnvironmentDefaults {
  /** Replicas per app. */
  replicas: number;
  /** Container resources per app. */
  resources: ResourceSettings;
  /** Autoscaling per app. */
  autoscaling: AutoscalingSettings;
  /** Ingress on/off and the host pattern (`{app}` and `{env}` are substituted); none means each stack must set one. */
  ingress: { enabled: boolean; hostPattern?: string };
  /** Registry `host[:port]/prefix`. */
  registry: string;
  /** Tag policy. */
  tags: TagPolicy;
  /** Build here, or promote from which stack (and whether pins must match what it runs). */
  images:
    | { mode: "build" }
    | {
        mode: "promote";
        fromStack: string;
        requireSourceMatch: boolean;
        /** Soak on the source before promotion (a duration; "0" for none). */
        soak: string;
        /** Whether the source must have verified the digest. */
        requireVerified: boolean;
      };
  /** Rollout timing. */
  rollout: RolloutSettings;
  /** Whether rollouts are verified through their Ingress once Ready. */
  verification: boolean;
  /** Whether previews build images. */
  buildOnPreview: boolean;
  /** The lowest advisory severity that refuses a digest here (`never`: report only). */
  refuseAt: Severity | "never";
}

/**
 * Base images pinned by tag. Air-gapped users point these at their own registry
 * (`pyfleet:build.baseImages`), and may add `@sha256:` digests.
 */
export const DEFAULT_BASE_IMAGES: Readonly<BaseImages> = {
  python: "python:3.11-slim-bookworm",
  condaBuilder: "mambaorg/micromamba:1.5.10-bookworm-slim",
  condaRuntime: "debian:bookworm-slim",
};

/**
 * The conda installer of the builder stage: micromamba, for builders that reach conda-forge;
 * stacks without it (air-gapped, a local channel) set `build.condaInstaller: rattler`.
 */
export const DEFAULT_CONDA_INSTALLER: CondaInstaller = "micromamba";

/** Default numeric uid/gid of every image and pod. */
export const DEFAULT_UID = 10001;

/** Defaults per environment. */
export const ENVIRONMENT_DEFAULTS: Readonly<Record<Environment, EnvironmentDefaults>> = {
  dev: {
    replicas: 1,
    resources: {
      requests: { cpu: "100m", memory: "256Mi" },
      limits: { cpu: "1", memory: "512Mi" },
    },
    autoscaling: { enabled: false, minReplicas: 1, maxReplicas: 2, cpuUtilization: 80 },
    ingress: { enabled: true, hostPattern: "{app}.{env}.localhost" },
    registry: "localhost:5000/pyfleet",
    tags: { allowDirty: true, requireVersion: false },
    images: { mode: "build" },
    rollout: { minReadySeconds: 5, progressDeadlineSeconds: 180, drainSeconds: 5 },
    buildOnPreview: false,
    verification: false,
    // dev reports what its builds carry; the stages that promote refuse.
    refuseAt: "never",
  },
  staging: {
    replicas: 2,
    resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
    autoscaling: { enabled: false, minReplicas: 2, maxReplicas: 4, cpuUtilization: 75 },
    ingress: { enabled: true, hostPattern: "{app}.{env}.localhost" },
    registry: "localhost:5000/pyfleet",
    tags: { allowDirty: false, requireVersion: true },
    images: {
      mode: "promote",
      fromStack: "dev",
      requireSourceMatch: false,
      soak: "0",
      requireVerified: false,
    },
    rollout: { minReadySeconds: 10, progressDeadlineSeconds: 300, drainSeconds: 10 },
    buildOnPreview: false,
    verification: true,
    refuseAt: "critical",
  },
  prod: {
    replicas: 3,
    resources: {
      requests: { cpu: "500m", memory: "1Gi" },
      limits: { cpu: "2", memory: "2Gi" },
    },
    autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 10, cpuUtilization: 70 },
    // Public hosts are the operator's to choose: prod has no default, so forgetting one is an error.
    ingress: { enabled: true },
    registry: "localhost:5000/pyfleet",
    tags: { allowDirty: false, requireVersion: true },
    images: {
      mode: "promote",
      fromStack: "staging",
      requireSourceMatch: true,
      soak: "0",
      requireVerified: false,
    },
    rollout: { minReadySeconds: 15, progressDeadlineSeconds: 420, drainSeconds: 15 },
    buildOnPreview: false,
    verification: false,
    refuseAt: "high",
  },
};

/** Pulumi waits this much longer than the Deployment's own progress deadline. */
export const AWAIT_MARGIN_SECONDS = 60;

/** Seconds Pulumi waits for a Deployment: its progress deadline plus a margin. */
export function awaitTimeoutSeconds(settings: Pick<Settings, "rollout">): number {
  return settings.rollout.progressDeadlineSeconds + AWAIT_MARGIN_SECONDS;
}

/**
 * The resolved, validated settings the program runs on. Components take slices of these as
 * plain typed arguments; only `stacks/` knows where the values came from.
 */

import type { Environment } from "../policy/vocabulary";

export { ENVIRONMENTS, type Environment } from "../policy/vocabulary";

/** How an app's Python dependencies are installed. */
export const FLAVOURS = ["pip", "conda"] as const;

/** How an app's Python dependencies are installed. */
export type Flavour = (typeof FLAVOURS)[number];

/**
 * What creates a conda environment in the builder stage: micromamba (for builders that reach
 * conda-forge), or the rattler installer (py-rattler, the solver behind pixi, on the pip base).
 */
export const CONDA_INSTALLERS = ["micromamba", "rattler"] as const;
/** One of {@link CONDA_INSTALLERS}. */
export type CondaInstaller = (typeof CONDA_INSTALLERS)[number];

/** What kind of process an app runs; selects port, probes and command presets. */
export const APP_KINDS = ["streamlit", "flask", "fastapi", "worker"] as const;
/** What kind of process an app runs. */
export type AppKind = (typeof APP_KINDS)[number];

/** Requests and limits of one container. */
export interface ResourceSettings {
  /** Guaranteed CPU and memory. */
  requests: { cpu: string; memory: string };
  /** Ceilings; the CPU limit is optional (throttling policy), the memory limit is not. */
  limits: { cpu?: string; memory: string };
}

/** HorizontalPodAutoscaler bounds. */
export interface AutoscalingSettings {
  /** Whether an HPA is created. */
  enabled: boolean;
  /** Lower replica bound. */
  minReplicas: number;
  /** Upper replica bound. */
  maxReplicas: number;
  /** Target average CPU utilisation, percent of the request. */
  cpuUtilization: number;
  /** Target average memory utilisation, percent of the request; omitted when unset. */
  memoryUtilization?: number;
}

/** Rollout timing, tied together so a bad rollout fails `pulumi up` within minutes. */
export interface RolloutSettings {
  /** Seconds a new pod must stay ready before it counts as available. */
  minReadySeconds: number;
  /** Deployment progress deadline; the Pulumi await timeout is derived from it. */
  progressDeadlineSeconds: number;
  /** preStop sleep that lets endpoints and the ingress drain before SIGTERM. */
  drainSeconds: number;
}

/** Probe endpoints and timing for HTTP apps, or an exec heartbeat for workers. */
export interface HealthSettings {
  /** Path polled by the startup probe. */
  startupPath: string;
  /** Path polled by the readiness probe (the app's "ready" endpoint). */
  readinessPath: string;
  /** Path polled by the liveness probe (cheap, no external dependencies). */
  livenessPath: string;
  /** A path that exercises the app for real, checked once a rollout is Ready (verification). */
  smokePath?: string;
  /** Seconds the startup probe allows for the slowest start (failureThreshold x period). */
  startupBudgetSeconds: number;
}

/** How an app's version is found. */
export type VersionSource =
  { from: "pyproject" } | { from: "file"; file: string } | { from: "setting"; value: string };

/** A persistent volume on the local-path storage class. */
export interface VolumeSettings {
  /** Volume name, also the PVC name suffix. */
  name: string;
  /** Where the volume is mounted in the container. */
  mountPath: string;
  /** Requested size, e.g. `1Gi`. */
  size: string;
  /** Storage class; k3s ships `local-path`. */
  storageClass: string;
}

/** Ingress exposure of one app. */
export interface AppIngressSettings {
  /** Whether an Ingress is created. */
  enabled: boolean;
  /** The host name routed to the app. */
  host?: string;
  /** A TLS secret in the namespace holding the certificate. */
  tlsSecretName?: string;
  /** A cert-manager ClusterIssuer that issues the certificate. */
  clusterIssuer?: string;
}

/** Image build inputs of one app. */
export interface AppBuildSettings {
  /** Target platforms. */
  platforms: string[];
  /** Dockerfile target stage. */
  target: "production" | "development";
  /** Base images by role; each tagged, optionally digest-pinned. */
  baseImages: BaseImages;
  /** Runtime apt packages (e.g. libgomp1). */
  aptPackages: string[];
  /** Requirement variant: `requirements-<variant>.txt` instead of `requirements.txt`. */
  variant?: string;
  /** Numeric uid and gid the image and the pod run as. */
  uid: number;
  /** pip: the dependency list the builder installs from (requirements file or pyproject.toml). */
  dependencyFile: string;
  /** Whether development dependencies exist (requirements-dev.txt / environment-dev.yml). */
  devDependencies: boolean;
  /** conda: whether conda-lock.yml exists (installed without a solve). */
  condaLock: boolean;
  /** conda: what creates the environment in the builder stage. */
  condaInstaller: CondaInstaller;
  /** pip: apt packages the builder needs to compile sdists. */
  builderPackages: string[];
  /** Size budget of the pushed image (compressed), e.g. "400Mi"; `up` fails above it. */
  maxImageSize?: string;
}

/** Base images by role. */
export interface BaseImages {
  /** Builder and runtime base of the pip flavour (a python:3.x-slim image or equivalent). */
  python: string;
  /** Builder base of the conda flavour (a micromamba image). */
  condaBuilder: string;
  /** Runtime base of the conda flavour (a slim Debian image). */
  condaRuntime: string;
}

/** One app, fully resolved for the selected environment. */
export interface AppSettings {
  /** DNS-1035 name; prefixes every Kubernetes object and the image repository. */
  name: string;
  /** Source folder, relative to the project root. */
  path: string;
  /** Dependency flavour. */
  flavour: Flavour;
  /** Process kind. */
  kind: AppKind;
  /** Streamlit script, `module:app` for Flask/FastAPI, or a module for workers. */
  entrypoint: string;
  /** Container port; absent for workers. */
  port?: number;
  /** Probe settings. */
  health: HealthSettings;
  /** Where the version comes from. */
  versionSource: VersionSource;
  /** The resolved version, when the source declares one. */
  version?: string;
  /** Git state of the app's folder, when the project is a git checkout. */
  revision?: { sha: string; dirty: boolean; committedAt?: string };
  /** One-line description (OCI description label). */
  description: string;
  /** Replica count (the HPA's minimum when autoscaling). */
  replicas: number;
  /** Container resources. */
  resources: ResourceSettings;
  /** Autoscaling. */
  autoscaling: AutoscalingSettings;
  /** Ingress. */
  ingress: AppIngressSettings;
  /** Persistent volumes. */
  volumes: VolumeSettings[];
  /** Plain configuration, delivered through a ConfigMap. */
  config: Record<string, string>;
  /** Names of secret environment variables the app expects (values are Pulumi secrets). */
  secretNames: string[];
  /** Namespaces (by name) whose pods may reach this app, besides the ingress controller. */
  allowFrom: string[];
  /** Optional GPU request. */
  gpu?: { count: number; runtimeClassName: string };
  /** Optional Prometheus scrape endpoint. */
  metrics?: { port: number; path: string };
  /** Image build inputs. */
  build: AppBuildSettings;
}

/** Registry the images go to. */
export interface RegistrySettings {
  /** `host[:port]` of the registry. */
  server: string;
  /** Repository prefix under the server, possibly empty. */
  prefix: string;
  /** User for pushes and pulls; absent for anonymous registries. */
  username?: string;
  /** Whether a password secret is configured. */
  hasPassword: boolean;
}

/** Where manifests go: a live cluster, or rendered YAML files. */
export type ClusterTarget =
  | { mode: "render"; directory: string }
  | { mode: "kubeconfig"; context?: string }
  | { mode: "context"; context?: string; kubeconfigPath?: string };

/** Stack-wide image build settings. */
export interface BuildSettings {
  /** Whether previews run real builds (off for CI previews). */
  buildOnPreview: boolean;
  /** Whether built images are pushed. */
  push: boolean;
  /** buildx builder to build with (e.g. a remote BuildKit); the provider's default otherwise. */
  builder?: string;
  /**
   * The Docker engine (`DOCKER_HOST`) and client config folder holding the builder
   * (`DOCKER_CONFIG`) the build provider uses. `npm run preview|up|destroy` export them to the
   * providers, so every run of the stack talks to the same engine; unset, the caller's
   * environment decides.
   */
  dockerHost?: string;
  /** See {@link BuildSettings.dockerHost}. */
  dockerConfig?: string;
  /** Whether the registry build cache (`<repo>:buildcache`) is used. */
  registryCache: boolean;
  /** Network mode of RUN steps. */
  network: "default" | "host" | "none";
  /** Package index for pip, passed as a build argument; never a credential. */
  pipIndexUrl?: string;
  /** Extra links for pip (`--find-links`), passed as a build argument. */
  pipFindLinks?: string;
  /** Whether pip uses only `pipFindLinks` (an air-gapped wheelhouse), no index. */
  pipNoIndex?: boolean;
  /** conda channel URL(s), comma-separated, replacing environment.yml's channels; a build argument. */
  condaChannel?: string;
}

/** Tag policy. */
export interface TagPolicy {
  /** Whether an image may be built from uncommitted changes (tag `sha-<sha>-dirty`). */
  allowDirty: boolean;
  /** Whether an app without a resolvable version is refused. */
  requireVersion: boolean;
}

/** What a promoting stack asks of a digest its source ran (model/promotionGates.ts). */
export interface GatePolicy {
  /** How long the source must have run the digest, in ms (0: no soak). */
  soakMs: number;
  /** Whether the digest's last verification on the source must have passed. */
  requireVerified: boolean;
  /** An explicit override of soak and verification, with the reason it is recorded under. */
  breakGlass?: { reason: string };
}

/** Advisory severities, least to most severe. */
export type Severity = "low" | "medium" | "high" | "critical";

/** The vulnerability gate of one environment (model/supplyChain.ts judges scans with it). */
export interface VulnerabilityPolicy {
  /** The lowest severity that refuses a digest; `never` only reports. */
  refuseAt: Severity | "never";
  /** Advisories let through on record until their date (`YYYY-MM-DD`), by advisory id. */
  exceptions: Record<string, { reason: string; expires: string }>;
  /** Folder of OSV exports (`<Ecosystem>/all.zip`); none: nothing is scanned. */
  database?: string;
}

/** Signatures: this stack signs what it builds, and verifies what it promotes. */
export interface SigningSettings {
  /** Whether a private key is configured (secrets `pyfleet:signing.key`, `.password`). */
  signs: boolean;
  /** Project-relative path of the cosign public key that verifies promoted digests. */
  publicKey?: string;
}

/** Where this stack's images come from. */
export type ImageSource =
  | { mode: "build" }
  | {
      mode: "promote";
      fromStack: string;
      organization: string;
      pins: Record<string, string>;
      rollback: Record<string, string>;
      requireSourceMatch: boolean;
      /** What the source must have shown about a digest: soak, verification, break glass. */
      gates: GatePolicy;
    };

/** Everything the program needs, resolved for one stack. */
export interface Settings {
  /** The Pulumi stack name. */
  stack: string;
  /** The project name. */
  project: string;
  /** The environment the stack selects. */
  environment: Environment;
  /** Kubernetes namespace of every app. */
  namespace: string;
  /** Image registry. */
  registry: RegistrySettings;
  /** Manifest target. */
  cluster: ClusterTarget;
  /** Build settings. */
  build: BuildSettings;
  /** Tag policy. */
  tags: TagPolicy;
  /** Image source. */
  images: ImageSource;
  /** Rollout timing shared by every app. */
  rollout: RolloutSettings;
  /** Whether NetworkPolicy egress is open (true) or limited to DNS and the namespace. */
  egressOpen: boolean;
  /**
   * Whether each rollout is verified through its Ingress once Ready (the run history records
   * the result for the next stage's gates), and the address the checks go to (default: the
   * app's public URL).
   */
  verification: { enabled: boolean; via?: string };
  /** Signing of built digests, and verification of promoted ones. */
  signing: SigningSettings;
  /** The vulnerability gate on each image's SBOM. */
  vulnerabilities: VulnerabilityPolicy;
  /** Apps, by name, in catalogue order. */
  apps: AppSettings[];
}

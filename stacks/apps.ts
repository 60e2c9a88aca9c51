/**
 * Per-app resolution: one catalogue entry, its environment block and the stack's
 * `pyfleet:apps.<name>` override merged into one app's settings, and the checks that belong to
 * one app: its source folder and dependency files, resources, replicas and autoscaling, ingress,
 * volumes, config keys, version and git state. Pure: files and git are read through
 * `SettingsSources`.
 */
import {
  HPA_MIN_REPLICAS,
  REQUIRED_DOCKERIGNORE,
  SCRATCH_MOUNT_PATH,
  limitBelowRequest,
  looksLikeSecret,
  minimumReplicas,
  missingDockerignorePatterns,
} from "../policy/vocabulary";
import { condaFileProblems } from "./condaFiles";
import {
  DEFAULT_BASE_IMAGES,
  DEFAULT_CONDA_INSTALLER,
  DEFAULT_UID,
  ENVIRONMENT_DEFAULTS,
} from "./environments";
import { KIND_PRESETS, defaultStartupBudgetSeconds } from "./presets";
import type { AppOverride, CatalogueFile, StackConfig } from "./schema";
import type { SettingsSources } from "./sources";
import type { AppSettings, Environment } from "./types";
import { resolveVersion } from "./versions";

/** What resolving one app reads. */
export interface AppInput {
  name: string;
  entry: CatalogueFile["apps"][string];
  stackOverride: AppOverride | undefined;
  environment: Environment;
  config: StackConfig;
  sources: SettingsSources;
  cataloguePath: string;
  buildsImages: boolean;
  problems: string[];
}

/**
 * One app's settings: its catalogue entry, merged with the entry's block for this environment
 * and the stack's override, on top of the stack-wide and environment defaults. Problems are
 * pushed onto `problems`; undefined when the app is disabled in this stack or lacks path,
 * flavour or kind.
 */
export function resolveApp(input: AppInput): AppSettings | undefined {
  const { name, entry, environment, config, sources, cataloguePath, problems } = input;
  const { environments, ...base } = entry;
  const merged: AppOverride = mergeOverrides(
    mergeOverrides(base, environments?.[environment] ?? {}),
    input.stackOverride ?? {},
  );
  const where = `apps.${name}`;
  // A disabled app stays in the catalogue but gets no image and no objects in this stack.
  if (merged.enabled === false) return undefined;
  const missing = (["path", "flavour", "kind"] as const).filter((k) => merged[k] === undefined);
  if (missing.length > 0) {
    problems.push(
      `${where}: ${missing.join(", ")} not set; every app in ${cataloguePath} needs path, flavour ` +
        "(pip or conda) and kind (streamlit, flask, fastapi or worker)",
    );
    return undefined;
  }
  const path = merged.path!.replace(/\/+$/, "");
  const flavour = merged.flavour!;
  const kind = merged.kind!;
  const preset = KIND_PRESETS[kind];
  const defaults = ENVIRONMENT_DEFAULTS[environment];

  checkSourceFiles(name, path, flavour, merged.build?.variant, sources, cataloguePath, problems);
  if (flavour === "conda") {
    const environment = sources.readFile(`${path}/environment.yml`);
    const lock = sources.readFile(`${path}/conda-lock.yml`);
    if (environment !== undefined) {
      problems.push(
        ...condaFileProblems({
          where: `apps.${name}`,
          folder: path,
          environment,
          ...(lock !== undefined ? { lock } : {}),
          platforms: merged.build?.platforms ?? config.build?.platforms ?? ["linux/amd64"],
        }),
      );
    }
  }

  const resources = {
    requests: {
      ...defaults.resources.requests,
      ...config.resources?.requests,
      ...merged.resources?.requests,
    },
    limits: {
      ...defaults.resources.limits,
      ...config.resources?.limits,
      ...merged.resources?.limits,
    },
  };
  checkResources(where, resources, problems);

  const replicas = merged.replicas ?? config.replicas ?? defaults.replicas;
  const autoscaling = {
    ...defaults.autoscaling,
    ...config.autoscaling,
    ...merged.autoscaling,
  };
  const minimum = minimumReplicas(environment);
  if (replicas < minimum) {
    problems.push(
      `${where}.replicas: ${environment} runs at least ${minimum} replicas so a node drain or a rollout ` +
        `never takes the app down, got ${replicas}; set pyfleet:apps.${name}.replicas to ${minimum} or more`,
    );
  }
  if (autoscaling.enabled) {
    if (autoscaling.minReplicas < HPA_MIN_REPLICAS) {
      problems.push(
        `${where}.autoscaling.minReplicas: must be >= ${HPA_MIN_REPLICAS} when autoscaling is enabled, got ${autoscaling.minReplicas}`,
      );
    }
    if (autoscaling.maxReplicas < autoscaling.minReplicas) {
      problems.push(
        `${where}.autoscaling.maxReplicas: ${autoscaling.maxReplicas} is below minReplicas ` +
          `${autoscaling.minReplicas}; raise maxReplicas or lower minReplicas`,
      );
    }
  }

  if (kind === "worker" && merged.port !== undefined) {
    problems.push(`${where}.port: a worker serves no HTTP port, got ${merged.port}; remove port`);
  }
  const port = preset.http ? (merged.port ?? preset.port) : undefined;
  if (merged.metrics && port !== undefined && merged.metrics.port === port) {
    // Scraping the app port is fine; nothing to check.
  }

  const ingressEnabled =
    preset.http && (merged.ingress?.enabled ?? config.ingress?.enabled ?? defaults.ingress.enabled);
  const hostPattern = config.ingress?.hostPattern ?? defaults.ingress.hostPattern;
  const host =
    merged.ingress?.host ??
    (hostPattern
      ? hostPattern.replaceAll("{app}", name).replaceAll("{env}", environment)
      : undefined);
  if (ingressEnabled && host === undefined) {
    problems.push(
      `${where}.ingress.host: ${environment} enables ingress but no host is set; set ` +
        `pyfleet:ingress.hostPattern (e.g. "{app}.example.com") or pyfleet:apps.${name}.ingress.host, ` +
        `or disable it with pyfleet:apps.${name}.ingress.enabled: false`,
    );
  }
  const tlsSecretName = merged.ingress?.tlsSecretName ?? config.ingress?.tlsSecretName;
  const clusterIssuer = merged.ingress?.clusterIssuer ?? config.ingress?.clusterIssuer;

  const volumeNames = new Set<string>();
  for (const volume of merged.volumes ?? []) {
    if (volumeNames.has(volume.name)) {
      problems.push(`${where}.volumes: the volume name "${volume.name}" is used twice`);
    }
    volumeNames.add(volume.name);
    if (volume.mountPath === SCRATCH_MOUNT_PATH || volume.mountPath === "/app") {
      problems.push(
        `${where}.volumes.${volume.name}.mountPath: ${volume.mountPath} is reserved ` +
          "(scratch space and app code); mount the volume elsewhere, e.g. /data",
      );
    }
  }

  // Plain config lands in a ConfigMap, readable by anyone who may read the namespace (C7).
  for (const key of Object.keys(merged.config ?? {})) {
    if (looksLikeSecret(key)) {
      problems.push(
        `${where}.config.${key}: looks like a secret, and config is stored in a plain ConfigMap; ` +
          `declare it in ${where}.secrets instead and set its value with: pulumi config set ` +
          `--secret --path 'pyfleet:appSecrets.${name}.${key}' <value>`,
      );
    }
  }

  const versionSource = merged.version ?? { from: "pyproject" as const };
  const version = resolveVersion(name, path, versionSource, sources, cataloguePath, problems);
  const revision = sources.revision(path);
  if (input.buildsImages) {
    const policy = { ...defaults.tags, ...config.tags };
    if (version === undefined && policy.requireVersion) {
      problems.push(
        `${where}.version: ${environment} refuses unversioned builds; declare a version ` +
          `(pyproject.toml [project].version, a VERSION file, or version: {from: setting})`,
      );
    }
    if (revision?.dirty && !policy.allowDirty) {
      problems.push(
        `${where}: ${path} has uncommitted changes and ${environment} refuses dirty builds; ` +
          "commit them (or build in dev, which allows dirty images)",
      );
    }
  }

  const health = {
    startupPath: merged.health?.startupPath ?? preset.startupPath,
    readinessPath: merged.health?.readinessPath ?? preset.readinessPath,
    livenessPath: merged.health?.livenessPath ?? preset.livenessPath,
    ...(merged.health?.smokePath !== undefined ? { smokePath: merged.health.smokePath } : {}),
    startupBudgetSeconds:
      merged.health?.startupBudgetSeconds ?? defaultStartupBudgetSeconds(kind, flavour),
  };
  const uid = merged.build?.uid ?? config.build?.uid ?? DEFAULT_UID;

  return {
    name,
    path,
    flavour,
    kind,
    entrypoint: merged.entrypoint ?? preset.entrypoint,
    ...(port !== undefined ? { port } : {}),
    health,
    versionSource,
    ...(version !== undefined ? { version } : {}),
    ...(revision !== undefined ? { revision } : {}),
    description: merged.description ?? `${name} (${kind}, ${flavour})`,
    replicas,
    resources,
    autoscaling,
    ingress: {
      enabled: ingressEnabled,
      ...(host !== undefined ? { host } : {}),
      ...(tlsSecretName !== undefined ? { tlsSecretName } : {}),
      ...(clusterIssuer !== undefined ? { clusterIssuer } : {}),
    },
    volumes: (merged.volumes ?? []).map((v) => ({
      name: v.name,
      mountPath: v.mountPath,
      size: v.size,
      storageClass: v.storageClass ?? "local-path",
    })),
    config: merged.config ?? {},
    secretNames: merged.secrets ?? [],
    allowFrom: merged.allowFrom ?? [],
    ...(merged.gpu
      ? {
          gpu: {
            count: merged.gpu.count,
            runtimeClassName: merged.gpu.runtimeClassName ?? "nvidia",
          },
        }
      : {}),
    ...(merged.metrics ? { metrics: merged.metrics } : {}),
    build: {
      platforms: merged.build?.platforms ?? config.build?.platforms ?? ["linux/amd64"],
      target: merged.build?.target ?? config.build?.target ?? "production",
      baseImages: {
        ...DEFAULT_BASE_IMAGES,
        ...config.build?.baseImages,
        ...merged.build?.baseImages,
      },
      aptPackages: merged.build?.aptPackages ?? [],
      ...(merged.build?.variant !== undefined ? { variant: merged.build.variant } : {}),
      uid,
      ...buildFiles(path, flavour, merged.build?.variant, sources),
      builderPackages: merged.build?.builderPackages ??
        config.build?.builderPackages ?? ["build-essential"],
      condaInstaller:
        merged.build?.condaInstaller ?? config.build?.condaInstaller ?? DEFAULT_CONDA_INSTALLER,
      ...((merged.build?.maxImageSize ?? config.build?.maxImageSize) !== undefined
        ? { maxImageSize: (merged.build?.maxImageSize ?? config.build?.maxImageSize)! }
        : {}),
    },
  };
}

/** Deep-merges two override blocks; arrays and scalars in `over` replace those in `base`. */
export function mergeOverrides(base: AppOverride, over: AppOverride): AppOverride {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] =
      isPlainObject(current) && isPlainObject(value)
        ? mergeOverrides(current, value as AppOverride)
        : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Which dependency files an app folder has, for the Dockerfile generator. */
function buildFiles(
  path: string,
  flavour: "pip" | "conda",
  variant: string | undefined,
  sources: SettingsSources,
): { dependencyFile: string; devDependencies: boolean; condaLock: boolean } {
  const exists = (file: string) => sources.readFile(`${path}/${file}`) !== undefined;
  if (flavour === "conda") {
    return {
      dependencyFile: "environment.yml",
      devDependencies: exists("environment-dev.yml"),
      condaLock: exists("conda-lock.yml"),
    };
  }
  const requirements = variant ? `requirements-${variant}.txt` : "requirements.txt";
  return {
    dependencyFile: exists(requirements) || variant ? requirements : "pyproject.toml",
    devDependencies: exists("requirements-dev.txt"),
    condaLock: false,
  };
}

function checkSourceFiles(
  name: string,
  path: string,
  flavour: "pip" | "conda",
  variant: string | undefined,
  sources: SettingsSources,
  cataloguePath: string,
  problems: string[],
): void {
  const where = `apps.${name}`;
  const outside = sources.outsideProject?.(path);
  if (outside !== undefined) {
    problems.push(
      `${where}.path: ${JSON.stringify(path)} leads outside the repository (${outside}); an app's ` +
        `source folder is its build context and must stay inside the repository (in ${cataloguePath})`,
    );
    return;
  }
  if (!sources.isDirectory(path)) {
    problems.push(
      `${where}.path: the folder ${path} does not exist (in ${cataloguePath}); point path at the app's source folder`,
    );
    return;
  }
  const dockerignore = sources.readFile(`${path}/.dockerignore`);
  const missingIgnores =
    dockerignore === undefined
      ? [...REQUIRED_DOCKERIGNORE]
      : missingDockerignorePatterns(dockerignore);
  if (missingIgnores.length > 0) {
    problems.push(
      `${where}: ${path}/.dockerignore ${dockerignore === undefined ? "is missing" : "lacks"} ` +
        `${missingIgnores.join(", ")}; secrets and state must stay out of the build context ` +
        `(write the file with: npm run dockerignore -- ${name})`,
    );
  }
  if (flavour === "conda") {
    if (sources.readFile(`${path}/environment.yml`) === undefined) {
      problems.push(
        `${where}: ${path}/environment.yml not found; a conda app needs environment.yml ` +
          `(or set flavour: pip in ${cataloguePath})`,
      );
    }
    return;
  }
  const requirements = variant ? `requirements-${variant}.txt` : "requirements.txt";
  const hasRequirements = sources.readFile(`${path}/${requirements}`) !== undefined;
  const hasPyproject = !variant && sources.readFile(`${path}/pyproject.toml`) !== undefined;
  if (!hasRequirements && !hasPyproject) {
    problems.push(
      variant
        ? `${where}: ${path}/${requirements} not found for variant "${variant}"; add it or remove build.variant`
        : `${where}: ${path}/requirements.txt not found; a pip app needs requirements.txt (or pyproject.toml)`,
    );
  }
}

function checkResources(
  where: string,
  resources: AppSettings["resources"],
  problems: string[],
): void {
  const { requests, limits } = resources;
  // Malformed quantities were reported by the schema; they compare as undefined here.
  if (limitBelowRequest(limits.memory, requests.memory) === true) {
    problems.push(
      `${where}.resources.limits.memory: ${limits.memory} is below the request ` +
        `${requests.memory}; a limit must be >= its request`,
    );
  }
  if (limits.cpu !== undefined && limitBelowRequest(limits.cpu, requests.cpu) === true) {
    problems.push(
      `${where}.resources.limits.cpu: ${limits.cpu} is below the request ${requests.cpu}; ` +
        "a limit must be >= its request",
    );
  }
}

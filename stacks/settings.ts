/**
 * Settings resolution: stack config + the app catalogue + the environment defaults table ->
 * one validated `Settings` object. Pure: every input arrives through `SettingsSources`, so this
 * module is tested without Pulumi; `stacks/load.ts` feeds it from the real config, files and git.
 */
import { parse as parseYaml } from "yaml";
import { KIND_PRESETS, defaultStartupBudgetSeconds } from "./presets";
import {
  HPA_MIN_REPLICAS,
  REQUIRED_DOCKERIGNORE,
  SCRATCH_MOUNT_PATH,
  deadlineCoversMinReady,
  limitBelowRequest,
  looksLikeSecret,
  minimumReplicas,
  missingDockerignorePatterns,
} from "../policy/vocabulary";
import {
  DEFAULT_BASE_IMAGES,
  DEFAULT_CONDA_INSTALLER,
  DEFAULT_UID,
  ENVIRONMENT_DEFAULTS,
} from "./environments";
import { consistencyProblems } from "./consistency";
import { condaFileProblems } from "./condaFiles";
import { SettingsError, formatIssues, keysAt } from "./problems";
import {
  SECRET_KEYS,
  STRING_KEYS,
  catalogueFile,
  stackConfig,
  type AppOverride,
  type CatalogueFile,
  type StackConfig,
} from "./schema";
import {
  ENVIRONMENTS,
  type AppSettings,
  type ClusterTarget,
  type Environment,
  type ImageSource,
  type Settings,
} from "./types";
import type { SettingsSources } from "./sources";
import { resolveVersion } from "./versions";

export type { RevisionInfo, SettingsSources } from "./sources";
export { keysAt } from "./problems";
export { awaitTimeoutSeconds } from "./environments";
export { pyprojectVersion } from "./versions";

/** Default catalogue location. */
export const DEFAULT_CATALOGUE = "apps/catalogue.yaml";
/** Organisation of stacks on the local file backend. */
export const DEFAULT_ORGANIZATION = "organization";

/** Resolves and validates every setting; throws `SettingsError` listing all problems. */
export function resolveSettings(sources: SettingsSources): Settings {
  const problems: string[] = [];
  const stackFile = sources.configFiles ?? `Pulumi.${sources.stack}.yaml`;

  const environment = resolveEnvironment(sources, problems);
  const config = parseStackConfig(sources, stackFile, problems);
  const cataloguePath = config?.catalogue ?? DEFAULT_CATALOGUE;
  const catalogue = parseCatalogue(sources, cataloguePath, problems);

  if (!environment || !config || !catalogue) {
    throw new SettingsError(sources.stack, problems);
  }

  const settings = buildSettings(sources, environment, config, catalogue, cataloguePath, problems);
  problems.push(
    ...consistencyProblems({
      settings,
      config,
      catalogue,
      cataloguePath,
      stackFile,
      ...(sources.outsideProject ? { outsideProject: (p) => sources.outsideProject!(p) } : {}),
      ...(sources.escapingLinks ? { escapingLinks: (p) => sources.escapingLinks!(p) } : {}),
    }),
  );
  if (problems.length > 0) {
    throw new SettingsError(sources.stack, problems);
  }
  return settings;
}

function resolveEnvironment(sources: SettingsSources, problems: string[]): Environment | undefined {
  const configured = sources.config["environment"];
  if (configured !== undefined) {
    // The schema reports a bad value; here only the happy path matters.
    return (ENVIRONMENTS as readonly string[]).includes(configured)
      ? (configured as Environment)
      : undefined;
  }
  if ((ENVIRONMENTS as readonly string[]).includes(sources.stack)) {
    return sources.stack as Environment;
  }
  problems.push(
    `pyfleet:environment: stack "${sources.stack}" is not named dev, staging or prod, so it must ` +
      `say which environment it is: pulumi config set pyfleet:environment dev --stack ${sources.stack}`,
  );
  return undefined;
}

function parseStackConfig(
  sources: SettingsSources,
  stackFile: string,
  problems: string[],
): StackConfig | undefined {
  const decoded: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(sources.config)) {
    decoded[key] = STRING_KEYS.has(key) ? raw : decodeConfigValue(raw);
  }
  for (const key of SECRET_KEYS) {
    if (key in decoded && !sources.secretConfigKeys.has(key)) {
      problems.push(
        `pyfleet:${key}: holds a credential but is stored in plain text in ${stackFile}; ` +
          `store it encrypted: pulumi config set --secret pyfleet:${key} <value>` +
          (key === "appSecrets" ? " (or --secret --path 'pyfleet:appSecrets.<app>.<NAME>')" : ""),
      );
    }
  }
  const result = stackConfig.safeParse(decoded, { reportInput: true });
  if (!result.success) {
    problems.push(
      ...formatIssues(result.error.issues, {
        keyPrefix: "pyfleet:",
        file: stackFile,
        secretKeys: SECRET_KEYS,
        knownKeys: (path) => keysAt(stackConfig, path),
      }),
    );
    return undefined;
  }
  return result.data;
}

/** Pulumi stores structured config as JSON text and scalars as plain text. */
function decodeConfigValue(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function parseCatalogue(
  sources: SettingsSources,
  path: string,
  problems: string[],
): CatalogueFile | undefined {
  const outside = sources.outsideProject?.(path);
  if (outside !== undefined) {
    problems.push(
      `pyfleet:catalogue: ${JSON.stringify(path)} leads outside the repository (${outside}); ` +
        "keep the catalogue in the repository, e.g. apps/catalogue.yaml",
    );
    return undefined;
  }
  const text = sources.readFile(path);
  if (text === undefined) {
    problems.push(
      `pyfleet:catalogue: the app catalogue ${path} does not exist; create it or point ` +
        `pyfleet:catalogue at the right file`,
    );
    return undefined;
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    problems.push(`${path}: not valid YAML: ${(error as Error).message.split("\n")[0]}`);
    return undefined;
  }
  const result = catalogueFile.safeParse(raw ?? {}, { reportInput: true });
  if (!result.success) {
    problems.push(
      ...formatIssues(result.error.issues, {
        keyPrefix: "",
        file: path,
        knownKeys: (p) => keysAt(catalogueFile, p),
      }),
    );
    return undefined;
  }
  return result.data;
}

function buildSettings(
  sources: SettingsSources,
  environment: Environment,
  config: StackConfig,
  catalogue: CatalogueFile,
  cataloguePath: string,
  problems: string[],
): Settings {
  const defaults = ENVIRONMENT_DEFAULTS[environment];
  const registry = parseRegistry(config.registry ?? defaults.registry);

  for (const name of Object.keys(config.apps ?? {})) {
    if (!(name in catalogue.apps)) {
      problems.push(
        `pyfleet:apps.${name}: no app "${name}" in ${cataloguePath} (apps there: ` +
          `${Object.keys(catalogue.apps).join(", ") || "none"}); add it to the catalogue first`,
      );
    }
  }

  const images = resolveImageSource(config, defaults.images, problems);
  const rollout = { ...defaults.rollout, ...config.rollout };
  if (!deadlineCoversMinReady(rollout.progressDeadlineSeconds, rollout.minReadySeconds)) {
    problems.push(
      `pyfleet:rollout.progressDeadlineSeconds: ${rollout.progressDeadlineSeconds} must be above ` +
        `minReadySeconds (${rollout.minReadySeconds}), or no rollout can finish in time; raise ` +
        "progressDeadlineSeconds or lower minReadySeconds",
    );
  }
  if (rollout.drainSeconds >= rollout.progressDeadlineSeconds) {
    problems.push(
      `pyfleet:rollout.drainSeconds: ${rollout.drainSeconds} must be below ` +
        `progressDeadlineSeconds (${rollout.progressDeadlineSeconds})`,
    );
  }

  const apps: AppSettings[] = [];
  for (const [name, entry] of Object.entries(catalogue.apps)) {
    const app = resolveApp({
      name,
      entry,
      stackOverride: config.apps?.[name],
      environment,
      config,
      sources,
      cataloguePath,
      buildsImages: images.mode === "build",
      problems,
    });
    if (app) apps.push(app);
  }

  const secretValues = config.appSecrets ?? {};
  for (const [appName, values] of Object.entries(secretValues)) {
    const app = apps.find((a) => a.name === appName);
    if (!app) {
      if (!(appName in catalogue.apps)) {
        problems.push(`pyfleet:appSecrets.${appName}: no app "${appName}" in ${cataloguePath}`);
      }
      continue;
    }
    for (const key of Object.keys(values)) {
      if (!app.secretNames.includes(key)) {
        problems.push(
          `pyfleet:appSecrets.${appName}.${key}: the app does not declare this secret; add ` +
            `"${key}" to apps.${appName}.secrets in ${cataloguePath}, or remove the value`,
        );
      }
    }
  }
  for (const app of apps) {
    for (const key of app.secretNames) {
      if (!(key in (secretValues[app.name] ?? {}))) {
        problems.push(
          `pyfleet:appSecrets.${app.name}.${key}: the app declares secret ${key} but the stack ` +
            `has no value; set it: pulumi config set --secret --path ` +
            `'pyfleet:appSecrets.${app.name}.${key}' <value> --stack ${sources.stack}`,
        );
      }
    }
  }

  return {
    stack: sources.stack,
    project: sources.project,
    environment,
    namespace: config.namespace ?? `${sources.project}-${environment}`,
    registry: {
      server: registry.server,
      prefix: registry.prefix,
      ...(config.registryUsername !== undefined ? { username: config.registryUsername } : {}),
      hasPassword: config.registryPassword !== undefined,
    },
    cluster: resolveCluster(sources.stack, config),
    build: {
      buildOnPreview: config.build?.buildOnPreview ?? defaults.buildOnPreview,
      push: config.build?.push ?? true,
      ...(config.build?.builder !== undefined ? { builder: config.build.builder } : {}),
      ...(config.build?.dockerHost !== undefined ? { dockerHost: config.build.dockerHost } : {}),
      ...(config.build?.dockerConfig !== undefined
        ? { dockerConfig: config.build.dockerConfig }
        : {}),
      registryCache: config.build?.registryCache ?? true,
      network: config.build?.network ?? "default",
      ...(config.build?.pipIndexUrl !== undefined ? { pipIndexUrl: config.build.pipIndexUrl } : {}),
      ...(config.build?.pipFindLinks !== undefined
        ? { pipFindLinks: config.build.pipFindLinks }
        : {}),
      ...(config.build?.pipNoIndex !== undefined ? { pipNoIndex: config.build.pipNoIndex } : {}),
      ...(config.build?.condaChannel !== undefined
        ? { condaChannel: config.build.condaChannel }
        : {}),
    },
    tags: { ...defaults.tags, ...config.tags },
    images,
    rollout,
    egressOpen: (config.egress ?? "open") === "open",
    apps,
  };
}

/** Splits `host[:port]/prefix`. */
export function parseRegistry(ref: string): { server: string; prefix: string } {
  const slash = ref.indexOf("/");
  return slash === -1
    ? { server: ref, prefix: "" }
    : { server: ref.slice(0, slash), prefix: ref.slice(slash + 1) };
}

function resolveCluster(stack: string, config: StackConfig): ClusterTarget {
  if (config.kubeconfig !== undefined) {
    return { mode: "kubeconfig", ...(config.kubeContext ? { context: config.kubeContext } : {}) };
  }
  if (config.kubeContext !== undefined || config.kubeconfigPath !== undefined) {
    return {
      mode: "context",
      ...(config.kubeContext !== undefined ? { context: config.kubeContext } : {}),
      ...(config.kubeconfigPath !== undefined ? { kubeconfigPath: config.kubeconfigPath } : {}),
    };
  }
  return { mode: "render", directory: config.renderDir ?? `rendered/${stack}` };
}

function resolveImageSource(
  config: StackConfig,
  defaults: (typeof ENVIRONMENT_DEFAULTS)[Environment]["images"],
  problems: string[],
): ImageSource {
  const mode = config.images?.mode ?? defaults.mode;
  if (mode === "build") {
    for (const key of ["pins", "rollback"] as const) {
      if (Object.keys(config.images?.[key] ?? {}).length > 0) {
        problems.push(
          `pyfleet:images.${key}: only applies when images.mode is promote; remove it or set ` +
            "pyfleet:images.mode to promote",
        );
      }
    }
    return { mode: "build" };
  }
  const fromStack =
    config.images?.fromStack ?? (defaults.mode === "promote" ? defaults.fromStack : undefined);
  if (fromStack === undefined) {
    problems.push(
      "pyfleet:images.fromStack: images.mode is promote but no source stack is set; set " +
        'pyfleet:images.fromStack (e.g. "dev")',
    );
  }
  return {
    mode: "promote",
    fromStack: fromStack ?? "",
    organization: config.images?.organization ?? DEFAULT_ORGANIZATION,
    pins: config.images?.pins ?? {},
    rollback: config.images?.rollback ?? {},
    requireSourceMatch:
      config.images?.requireSourceMatch ??
      (defaults.mode === "promote" ? defaults.requireSourceMatch : false),
  };
}

interface AppInput {
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

function resolveApp(input: AppInput): AppSettings | undefined {
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

/**
 * Settings resolution: stack config + the app catalogue + the environment defaults table ->
 * one validated `Settings` object. This is the entry point, `resolveSettings`, and the
 * stack-wide parts: the environment, parsing the stack config and the catalogue, registry,
 * cluster target, image source, rollout, build settings and app secrets; each app is resolved
 * by `stacks/apps.ts`. Pure: every input arrives through `SettingsSources`, so this module is
 * tested without Pulumi; `stacks/load.ts` feeds it from the real config, files and git.
 */
import { parse as parseYaml } from "yaml";
import { deadlineCoversMinReady, parseDuration } from "../policy/vocabulary";
import { resolveApp } from "./apps";
import { ENVIRONMENT_DEFAULTS } from "./environments";
import { consistencyProblems } from "./consistency";
import { SettingsError, formatIssues, keysAt } from "./problems";
import {
  PARTLY_SECRET_KEYS,
  SECRET_KEYS,
  STRING_KEYS,
  catalogueFile,
  stackConfig,
  type CatalogueFile,
  type StackConfig,
} from "./schema";
import type { SettingsSources } from "./sources";
import {
  ENVIRONMENTS,
  type AppSettings,
  type ClusterTarget,
  type Environment,
  type ImageSource,
  type Settings,
} from "./types";

// Callers import the settings API from this module; these parts live beside the code they serve.
export { mergeOverrides } from "./apps";
export { awaitTimeoutSeconds } from "./environments";
export { keysAt } from "./problems";
export type { RevisionInfo, SettingsSources } from "./sources";
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

  const settings = buildSettings(
    sources,
    environment,
    config,
    catalogue,
    cataloguePath,
    stackFile,
    problems,
  );
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
  for (const [key, fields] of Object.entries(PARTLY_SECRET_KEYS)) {
    const value = decoded[key];
    if (typeof value !== "object" || value === null || sources.secretConfigKeys.has(key)) continue;
    for (const field of fields.filter((f) => f in value)) {
      problems.push(
        `pyfleet:${key}.${field}: holds a credential but is stored in plain text in ${stackFile}; ` +
          `store it encrypted: pulumi config set --secret --path 'pyfleet:${key}.${field}' <value>`,
      );
    }
  }
  const result = stackConfig.safeParse(decoded, { reportInput: true });
  if (!result.success) {
    problems.push(
      ...formatIssues(result.error.issues, {
        keyPrefix: "pyfleet:",
        file: stackFile,
        secretKeys: new Set([...SECRET_KEYS, ...Object.keys(PARTLY_SECRET_KEYS)]),
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
  stackFile: string,
  problems: string[],
): Settings {
  const defaults = ENVIRONMENT_DEFAULTS[environment];
  const registry = parseRegistry(config.registry ?? defaults.registry);

  for (const name of Object.keys(config.apps ?? {})) {
    if (!(name in catalogue.apps)) {
      problems.push(
        `pyfleet:apps.${name}: no app "${name}" in ${cataloguePath} (apps there: ` +
          `${Object.keys(catalogue.apps).join(", ") || "none"}); add it to the catalogue first, ` +
          `or remove apps.${name} from ${stackFile}`,
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
    verification: {
      enabled: config.verification?.enabled ?? defaults.verification,
      ...(config.verification?.via !== undefined ? { via: config.verification.via } : {}),
    },
    signing: resolveSigning(sources, config, images.mode, problems),
    vulnerabilities: {
      refuseAt: config.vulnerabilities?.refuseAt ?? defaults.refuseAt,
      exceptions: config.vulnerabilities?.exceptions ?? {},
      ...(config.vulnerabilities?.database !== undefined
        ? { database: config.vulnerabilities.database }
        : {}),
    },
    apps,
  };
}

/** Signing: a key where the stack builds, a public key that exists where it verifies. */
function resolveSigning(
  sources: SettingsSources,
  config: StackConfig,
  mode: ImageSource["mode"],
  problems: string[],
): Settings["signing"] {
  const signing = config.signing ?? {};
  const publicKey = signing.publicKey;
  if (publicKey !== undefined && sources.readFile(publicKey) === undefined) {
    problems.push(
      `pyfleet:signing.publicKey: "${publicKey}" is not a file of the project; generate the ` +
        "key pair with `cosign generate-key-pair` and commit cosign.pub, or correct the path",
    );
  }
  if (signing.key !== undefined && mode === "promote") {
    problems.push(
      `pyfleet:signing.key: stack "${sources.stack}" promotes digests and builds none, so it ` +
        "signs nothing; keep the private key in the stack that builds, and set only " +
        "pyfleet:signing.publicKey here",
    );
  }
  if (signing.password !== undefined && signing.key === undefined) {
    problems.push(
      "pyfleet:signing.password: set without pyfleet:signing.key; set the private key too " +
        "(pulumi config set --secret --path 'pyfleet:signing.key' < cosign.key)",
    );
  }
  return {
    signs: signing.key !== undefined && mode === "build",
    ...(publicKey !== undefined ? { publicKey } : {}),
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
    for (const key of ["soak", "requireVerified", "breakGlass"] as const) {
      if (config.images?.[key] !== undefined) {
        problems.push(
          `pyfleet:images.${key}: a promotion gate, which only applies when images.mode is ` +
            "promote; remove it or set pyfleet:images.mode to promote",
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
    gates: {
      // The schema checked the grammar; a default that does not parse is no soak.
      soakMs:
        parseDuration(config.images?.soak ?? (defaults.mode === "promote" ? defaults.soak : "0")) ??
        0,
      requireVerified:
        config.images?.requireVerified ??
        (defaults.mode === "promote" ? defaults.requireVerified : false),
      ...(config.images?.breakGlass !== undefined
        ? { breakGlass: { reason: config.images.breakGlass.reason } }
        : {}),
    },
  };
}

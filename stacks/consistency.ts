/**
 * Checks on values as they are used, after resolution: a value valid where it is read can still
 * be invalid where it lands (a version that is a tag but not a label value, a host pattern whose
 * substitution is no host), collide with what the program adds itself (the scratch volume, the
 * Service's port, the image's environment), escape the repository, carry a credential into a
 * build argument, or do nothing at all in this stack. Each problem names the key, the value and
 * the fix. Pure: every input comes in as a value.
 */

import { ingressHostError, labelValueError } from "../policy/vocabulary/names";
import { ENTRYPOINT_GRAMMAR, KIND_PRESETS, runtimeEnvVars } from "./presets";
import { hasUrlCredentials } from "../policy/vocabulary";
import type { CatalogueFile, StackConfig } from "./schema";
import type { AppSettings, Settings } from "./types";

/** Names the program gives volumes itself; an app volume may not take them. */
export const BUILT_IN_VOLUMES: readonly string[] = ["tmp"];
/** Mount paths the program uses itself: scratch space and the app code. */
export const RESERVED_MOUNT_PATHS: readonly string[] = ["/tmp", "/app"];
/** Port of every HTTP app's Service. */
export const SERVICE_PORT = 80;
/** Ports below this need NET_BIND_SERVICE, which pyfleet's containers drop. */
export const PRIVILEGED_PORT_LIMIT = 1024;
/** Placeholders an ingress host pattern may contain. */
export const HOST_PLACEHOLDERS: readonly string[] = ["{app}", "{env}"];

/** What {@link consistencyProblems} reads. */
export interface ConsistencyInput {
  /** The resolved settings. */
  settings: Settings;
  /** The stack's parsed `pyfleet:*` config. */
  config: StackConfig;
  /** The parsed catalogue. */
  catalogue: CatalogueFile;
  /** Catalogue path, for messages. */
  cataloguePath: string;
  /** Stack file name, for messages. */
  stackFile: string;
  /** The real path when a project-relative path leads outside the repository. */
  outsideProject?: (rel: string) => string | undefined;
  /** Symlinks under a folder that point outside the repository. */
  escapingLinks?: (rel: string) => string[];
}

/** Every problem of the classes above, in settings order. */
export function consistencyProblems(input: ConsistencyInput): string[] {
  return [
    ...unreadSettings(input),
    ...registryCredentials(input),
    ...renderDirectory(input),
    ...promotionSource(input),
    ...pipSources(input),
    ...unreadAutoscaling(input),
    ...input.settings.apps.flatMap((app) => appProblems(input, app)),
    ...sharedHosts(input.settings.apps),
    ...configCredentials(input),
  ];
}

function versionOrigin(app: AppSettings, cataloguePath: string): string {
  switch (app.versionSource.from) {
    case "setting":
      return `apps.${app.name}.version.value in ${cataloguePath}`;
    case "file":
      return `${app.path}/${app.versionSource.file}`;
    case "pyproject":
      return `${app.path}/pyproject.toml`;
  }
}

function appProblems(input: ConsistencyInput, app: AppSettings): string[] {
  const problems: string[] = [];
  const where = `apps.${app.name}`;
  const { settings, config, cataloguePath } = input;

  if (app.version !== undefined) {
    const error = labelValueError(app.version);
    if (error !== undefined) {
      problems.push(
        `${where}.version: ${JSON.stringify(app.version)} from ${versionOrigin(app, cataloguePath)} ` +
          `is a valid image tag but not a valid label value (app.kubernetes.io/version): it ${error}; ` +
          "use a version such as 1.2.0 or 1.2.0-rc.1",
      );
    }
  }

  const entrypointGrammar = ENTRYPOINT_GRAMMAR[app.kind];
  if (!entrypointGrammar.pattern.test(app.entrypoint)) {
    problems.push(
      `${where}.entrypoint: ${JSON.stringify(app.entrypoint)} is not a ${app.kind} entrypoint; ` +
        `set ${entrypointGrammar.example} in ${cataloguePath} (it becomes one argument of the image's CMD)`,
    );
  }

  if (app.ingress.enabled && app.ingress.host !== undefined) {
    const host = app.ingress.host;
    const explicit =
      config.apps?.[app.name]?.ingress?.host !== undefined || catalogueHost(input, app);
    const key = explicit ? `${where}.ingress.host` : "pyfleet:ingress.hostPattern";
    const unknown = [...host.matchAll(/\{[^}]*\}/g)].map((m) => m[0]);
    if (unknown.length > 0) {
      problems.push(
        `${key}: ${unknown.join(", ")} is not a placeholder (known: ${HOST_PLACEHOLDERS.join(", ")}); ` +
          `app ${app.name} would get the host ${JSON.stringify(host)}`,
      );
    } else {
      const error = ingressHostError(host);
      if (error !== undefined) {
        problems.push(
          `${key}: gives app ${app.name} the host ${JSON.stringify(host)}, which ${error}; ` +
            (explicit
              ? "set a host such as app.example.com"
              : 'use a pattern such as "{app}.{env}.example.com"'),
        );
      }
    }
  }

  const names = new Map<string, number>();
  const mounts = new Map<string, string>();
  app.volumes.forEach((volume, index) => {
    const at = `${where}.volumes[${index}]`;
    if (BUILT_IN_VOLUMES.includes(volume.name)) {
      problems.push(
        `${at}.name: "${volume.name}" is the name of the scratch volume pyfleet mounts at /tmp; ` +
          "name the volume something else, e.g. data",
      );
    }
    names.set(volume.name, (names.get(volume.name) ?? 0) + 1);
    const mount = volume.mountPath.replace(/\/+$/, "") || "/";
    if (mount.split("/").includes("..")) {
      problems.push(
        `${at}.mountPath: ${JSON.stringify(volume.mountPath)} contains ".."; use a plain absolute path`,
      );
    }
    if (RESERVED_MOUNT_PATHS.includes(mount) && mount !== volume.mountPath) {
      problems.push(
        `${at}.mountPath: ${volume.mountPath} is reserved (scratch space and app code); mount the volume elsewhere, e.g. /data`,
      );
    }
    const other = mounts.get(mount);
    if (other !== undefined) {
      problems.push(
        `${at}.mountPath: ${mount} is already the mount path of volume "${other}"; each volume needs its own mount path`,
      );
    } else {
      mounts.set(mount, volume.name);
    }
  });

  // Non-root with every capability dropped (no NET_BIND_SERVICE): low ports cannot be bound.
  for (const [key, value] of [
    ["port", app.port],
    // A metrics port on the Service's own port is reported below, with the same fix.
    ["metrics.port", app.metrics?.port === SERVICE_PORT ? undefined : app.metrics?.port],
  ] as const) {
    if (value !== undefined && value < PRIVILEGED_PORT_LIMIT) {
      problems.push(
        `${where}.${key}: ${value} is below ${PRIVILEGED_PORT_LIMIT}, which the app cannot bind: it runs ` +
          "as a non-root user with every capability dropped; listen on a port such as 8000 " +
          `(the Service still answers on ${SERVICE_PORT})`,
      );
    }
  }

  if (app.metrics) {
    const http = KIND_PRESETS[app.kind].http;
    if (http && app.metrics.port !== app.port && app.metrics.port === SERVICE_PORT) {
      problems.push(
        `${where}.metrics.port: ${app.metrics.port} is already the port of the app's Service ` +
          `(http, ${SERVICE_PORT} -> ${app.port ?? "the app port"}); serve metrics on another port, ` +
          `or on the app port ${app.port ?? ""} itself`,
      );
    }
  }

  const imageEnv = new Map(runtimeEnvVars(app.flavour));
  for (const key of Object.keys(app.config)) {
    if (imageEnv.has(key)) {
      problems.push(
        `${where}.config.${key}: overrides the image's ${key}=${imageEnv.get(key) ?? ""}, which ` +
          "the runtime relies on (read-only root filesystem, the Python environment); use another name",
      );
    }
    if (app.secretNames.includes(key)) {
      problems.push(
        `${where}.config.${key}: is also declared in ${where}.secrets; one environment variable ` +
          "comes from one place: remove it from config or from secrets",
      );
    }
  }
  for (const key of app.secretNames) {
    if (imageEnv.has(key)) {
      problems.push(
        `${where}.secrets: ${key} overrides the image's ${key}=${imageEnv.get(key) ?? ""}, which the runtime relies on; use another name`,
      );
    }
  }

  const outside = input.outsideProject?.(app.path);
  if (outside === undefined && settings.images.mode === "build") {
    const links = input.escapingLinks?.(app.path) ?? [];
    if (links.length > 0) {
      problems.push(
        `${where}.path: ${app.path} holds symlinks that leave the repository (${links.slice(0, 3).join(", ")}` +
          `${links.length > 3 ? `, and ${links.length - 3} more` : ""}); the build context must stay ` +
          "inside the repository: copy the files in or remove the links",
      );
    }
  }
  return problems;
}

function catalogueHost(input: ConsistencyInput, app: AppSettings): boolean {
  const entry = input.catalogue.apps[app.name];
  return (
    entry?.ingress?.host !== undefined ||
    entry?.environments?.[input.settings.environment]?.ingress?.host !== undefined
  );
}

function sharedHosts(apps: readonly AppSettings[]): string[] {
  const byHost = new Map<string, string[]>();
  for (const app of apps) {
    if (!app.ingress.enabled || app.ingress.host === undefined) continue;
    byHost.set(app.ingress.host, [...(byHost.get(app.ingress.host) ?? []), app.name]);
  }
  return [...byHost.entries()]
    .filter(([, names]) => names.length > 1)
    .map(
      ([host, names]) =>
        `apps.${names[1]}.ingress.host: ${JSON.stringify(host)} path "/" is also routed to app ` +
        `${names[0]} (apps ${names.join(", ")} share it); give each app its own host`,
    );
}

function unreadSettings(input: ConsistencyInput): string[] {
  const { config, settings, stackFile } = input;
  const problems: string[] = [];
  if (settings.images.mode === "promote") {
    const from = settings.images.fromStack;
    const belongs =
      `${settings.stack} deploys the digests ${from} runs, so set it in the stack that builds ` +
      "the images (the one with images.mode build, dev by default)";
    for (const key of Object.keys(config.build ?? {})) {
      problems.push(
        `pyfleet:build.${key}: ${settings.stack} never builds, so this setting in ${stackFile} ` +
          `does nothing; ${belongs}` +
          (key === "platforms" ? " (multi-arch images are decided where they are built)" : ""),
      );
    }
    if (config.pipConf !== undefined) {
      problems.push(
        `pyfleet:pipConf: ${settings.stack} never builds, so the pip.conf does nothing; ${belongs}`,
      );
    }
    for (const key of Object.keys(config.tags ?? {})) {
      problems.push(
        `pyfleet:tags.${key}: ${settings.stack} never builds or tags a build; ${belongs}`,
      );
    }
    for (const [name, override] of Object.entries(config.apps ?? {})) {
      if (override.build !== undefined) {
        problems.push(
          `pyfleet:apps.${name}.build: ${settings.stack} never builds ${name}; ${belongs} ` +
            `(pyfleet:apps.${name}.build there, or apps.${name}.build in ${input.cataloguePath})`,
        );
      }
    }
    for (const [name, entry] of Object.entries(input.catalogue.apps)) {
      if (entry.environments?.[settings.environment]?.build !== undefined) {
        problems.push(
          `apps.${name}.environments.${settings.environment}.build: ${settings.environment} never ` +
            `builds ${name}, so this does nothing (in ${input.cataloguePath}); ${belongs}`,
        );
      }
    }
  } else {
    for (const key of ["fromStack", "organization", "requireSourceMatch"] as const) {
      if (config.images?.[key] !== undefined) {
        problems.push(
          `pyfleet:images.${key}: only applies when images.mode is promote, and ${settings.stack} ` +
            `builds its images; remove it from ${stackFile} or set pyfleet:images.mode to promote`,
        );
      }
    }
  }
  if (config.kubeconfig !== undefined && config.kubeconfigPath !== undefined) {
    problems.push(
      `pyfleet:kubeconfigPath: ${settings.stack} also sets the secret pyfleet:kubeconfig, and only ` +
        "one kubeconfig can apply; remove one of them (pyfleet:kubeconfigPath names a file, " +
        "pyfleet:kubeconfig holds the file's contents)",
    );
  }
  if (config.renderDir !== undefined && settings.cluster.mode !== "render") {
    problems.push(
      `pyfleet:renderDir: ${settings.stack} deploys to a cluster (pyfleet:kubeconfig, ` +
        "pyfleet:kubeconfigPath or pyfleet:kubeContext), so manifests are never rendered there; remove renderDir, or the " +
        "cluster settings to render (npm run render renders any stack without them)",
    );
  }
  return problems;
}

/** Pulumi's grammar of stack and organization names. */
const STACK_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

function promotionSource(input: ConsistencyInput): string[] {
  const { images } = input.settings;
  if (images.mode !== "promote") return [];
  const problems: string[] = [];
  // Both end up in the StackReference name organization/project/stack.
  if (images.fromStack !== "" && !STACK_NAME.test(images.fromStack)) {
    problems.push(
      `pyfleet:images.fromStack: ${JSON.stringify(images.fromStack)} is not a Pulumi stack name ` +
        "(letters, digits, '_', '.', '-'); name the stack the images come from, e.g. dev",
    );
  }
  if (!STACK_NAME.test(images.organization)) {
    problems.push(
      `pyfleet:images.organization: ${JSON.stringify(images.organization)} is not a Pulumi ` +
        "organization name (letters, digits, '_', '.', '-'); the local file backend uses organization",
    );
  }
  for (const app of Object.keys(images.rollback)) {
    if (images.pins[app] !== undefined) {
      problems.push(
        `pyfleet:images.pins.${app}: a rollback of ${app} is set too and wins, so this pin does ` +
          `nothing; remove pyfleet:images.pins.${app} (or the rollback to return to the pin)`,
      );
    }
  }
  return problems;
}

function pipSources(input: ConsistencyInput): string[] {
  const { build, images } = input.settings;
  if (images.mode !== "build" || build.pipNoIndex !== true || build.pipFindLinks !== undefined) {
    return [];
  }
  return [
    "pyfleet:build.pipNoIndex: true without pyfleet:build.pipFindLinks leaves pip no source of " +
      "packages, so every pip build fails; set pipFindLinks to a wheelhouse URL or remove pipNoIndex",
  ];
}

function unreadAutoscaling(input: ConsistencyInput): string[] {
  const { config, settings } = input;
  const keys = Object.keys(config.autoscaling ?? {}).filter((k) => k !== "enabled");
  if (keys.length === 0 || settings.apps.some((a) => a.autoscaling.enabled)) return [];
  return [
    `pyfleet:autoscaling: ${keys.join(", ")} set but no app of ${settings.stack} autoscales, ` +
      `so ${keys.length === 1 ? "it does" : "they do"} nothing; enable it with ` +
      "pyfleet:autoscaling.enabled: true (or per app), or remove the settings",
  ];
}

function registryCredentials(input: ConsistencyInput): string[] {
  const { config, settings } = input;
  const user = config.registryUsername !== undefined;
  const password = config.registryPassword !== undefined;
  if (user === password) return [];
  return user
    ? [
        `pyfleet:registryUsername: set without pyfleet:registryPassword, so the credentials would ` +
          `be dropped; set the password too: pulumi config set --secret pyfleet:registryPassword <token> --stack ${settings.stack} ` +
          "(or remove the user for an anonymous registry)",
      ]
    : [
        `pyfleet:registryPassword: set without pyfleet:registryUsername, so the credentials would ` +
          `be dropped; set the user too: pulumi config set pyfleet:registryUsername <user> --stack ${settings.stack}`,
      ];
}

function renderDirectory(input: ConsistencyInput): string[] {
  const { settings } = input;
  if (settings.cluster.mode !== "render") return [];
  const dir = settings.cluster.directory;
  // Without the file system at hand, judge the text: absolute or climbing paths leave the repo.
  const outside = input.outsideProject
    ? input.outsideProject(dir)
    : /^\//.test(dir) || dir.split(/[\\/]/).includes("..")
      ? dir
      : undefined;
  if (outside === undefined) return [];
  return [
    `pyfleet:renderDir: ${JSON.stringify(dir)} is outside the repository` +
      `${outside !== dir ? ` (${outside})` : ""}; ` +
      `rendered manifests stay in the repository: use a relative path such as rendered/${settings.stack}`,
  ];
}

function configCredentials(input: ConsistencyInput): string[] {
  const problems: string[] = [];
  for (const app of input.settings.apps) {
    for (const [key, value] of Object.entries(app.config)) {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && hasUrlCredentials(value)) {
        problems.push(
          `apps.${app.name}.config.${key}: the URL carries credentials, and config is stored in a ` +
            `plain ConfigMap; declare ${key} in apps.${app.name}.secrets and set it with ` +
            `pulumi config set --secret --path 'pyfleet:appSecrets.${app.name}.${key}' <url>`,
        );
      }
    }
  }
  return problems;
}

/**
 * Everything an app's image build needs, derived from its settings: the Dockerfile spec, the
 * repository, the tags, the OCI labels and the build arguments. Pure.
 */
import type {
  AppSettings,
  BuildSettings,
  Environment,
  RegistrySettings,
  Settings,
  TagPolicy,
} from "../stacks/types";
import { CONDA_CONTEXT, CONDA_CONTEXT_DIR, type DockerfileSpec } from "./dockerfile";
import { KIND_PRESETS } from "../stacks/presets";
import { computeTags, ociLabels, type ImageTags } from "./tags";

/** Inputs of {@link imagePlan}. */
export interface ImagePlanInput {
  /** The app. */
  app: AppSettings;
  /** Environment (also a tag). */
  environment: Environment;
  /** Registry. */
  registry: RegistrySettings;
  /** Stack build settings. */
  build: BuildSettings;
  /** Tag policy. */
  tags: TagPolicy;
  /** Source repository URL for the OCI source label. */
  sourceUrl?: string;
  /** SPDX licence of the apps. */
  licenses?: string;
}

/** The derived build inputs. */
export interface ImagePlan {
  /** Dockerfile spec. */
  dockerfile: DockerfileSpec;
  /** Repository without tag. */
  repository: string;
  /** Tags. */
  tags: ImageTags;
  /** OCI labels. */
  labels: Record<string, string>;
  /** Build arguments (package index locations only; never credentials). */
  buildArgs: Record<string, string>;
  /** Named build contexts the Dockerfile mounts, by name: folders relative to the project root. */
  namedContexts: Record<string, string>;
}

/** `<server>/<prefix>/<app>`. */
export function repositoryFor(registry: RegistrySettings, app: string): string {
  return [registry.server, registry.prefix, app].filter((part) => part !== "").join("/");
}

/** The plan of one app of a stack's settings: what `up` builds and a preview explains. */
export function planFor(settings: Settings, app: AppSettings, sourceUrl?: string): ImagePlan {
  return imagePlan({
    app,
    environment: settings.environment,
    registry: settings.registry,
    build: settings.build,
    tags: settings.tags,
    ...(sourceUrl ? { sourceUrl } : {}),
  });
}

/** Plans the build of one app. */
export function imagePlan(input: ImagePlanInput): ImagePlan {
  const { app } = input;
  const repository = repositoryFor(input.registry, app.name);
  const http = KIND_PRESETS[app.kind].http;
  const dockerfile: DockerfileSpec = {
    app: app.name,
    flavour: app.flavour,
    kind: app.kind,
    entrypoint: app.entrypoint,
    ...(app.port !== undefined ? { port: app.port } : {}),
    ...(http ? { healthPath: app.health.livenessPath } : {}),
    startupBudgetSeconds: app.health.startupBudgetSeconds,
    uid: app.build.uid,
    baseImages: app.build.baseImages,
    aptPackages: app.build.aptPackages,
    builderPackages: app.build.builderPackages,
    dependencyFile: app.build.dependencyFile,
    devDependencies: app.build.devDependencies,
    condaLock: app.build.condaLock,
    condaInstaller: app.build.condaInstaller,
  };
  const tags = computeTags({
    app: app.name,
    repository,
    ...(app.version !== undefined ? { version: app.version } : {}),
    ...(app.revision !== undefined ? { revision: app.revision } : {}),
    environment: input.environment,
    allowDirty: input.tags.allowDirty,
    requireVersion: input.tags.requireVersion,
  });
  const labels = ociLabels({
    title: app.name,
    description: app.description,
    ...(app.version !== undefined ? { version: app.version } : {}),
    ...(app.revision !== undefined ? { revision: app.revision.sha } : {}),
    ...(app.revision?.committedAt !== undefined ? { created: app.revision.committedAt } : {}),
    ...(input.sourceUrl !== undefined ? { source: input.sourceUrl } : {}),
    ...(input.licenses !== undefined ? { licenses: input.licenses } : {}),
  });
  const buildArgs: Record<string, string> = {};
  if (input.build.pipIndexUrl !== undefined) buildArgs["PIP_INDEX_URL"] = input.build.pipIndexUrl;
  if (input.build.pipFindLinks !== undefined) {
    buildArgs["PIP_FIND_LINKS"] = input.build.pipFindLinks;
  }
  if (input.build.pipNoIndex === true) buildArgs["PIP_NO_INDEX"] = "1";
  // BuildKit stamps the image config and, with rewrite-timestamp on the export, every layer's
  // files with this time instead of the build's: one commit gives one digest.
  const committed = app.revision?.committedAt;
  if (committed !== undefined && !Number.isNaN(Date.parse(committed))) {
    buildArgs["SOURCE_DATE_EPOCH"] = String(Math.floor(Date.parse(committed) / 1000));
  }
  if (input.build.condaChannel !== undefined && app.flavour === "conda") {
    buildArgs["CONDA_CHANNEL"] = input.build.condaChannel;
  }
  const namedContexts: Record<string, string> =
    app.flavour === "conda" ? { [CONDA_CONTEXT]: CONDA_CONTEXT_DIR } : {};
  return { dockerfile, repository, tags, labels, buildArgs, namedContexts };
}

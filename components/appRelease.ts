/**
 * Where one app's image comes from in this environment: built here from source, or promoted
 * by digest from the previous environment's stack outputs (a pin overrides for rollback).
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { AppSettings, Settings } from "../stacks/types";
import { renderDockerfile } from "../model/dockerfile";
import { imagePlan } from "../model/imagePlan";
import { promotedImage, type AppOutput } from "../model/promotion";
import { PythonImage, type RegistryCredentials } from "./pythonImage";
import { RegistryTag } from "./registryTag";

/** Arguments of {@link appRelease}. */
export interface AppReleaseArgs {
  /** The app. */
  app: AppSettings;
  /** Stack settings. */
  settings: Settings;
  /** Project root, to locate the build context. */
  root: string;
  /** Registry credentials (password a secret). */
  credentials?: RegistryCredentials;
  /** pip.conf secret for private indexes. */
  pipConf?: pulumi.Output<string>;
  /** Source repository URL for the OCI labels. */
  sourceUrl?: string;
  /** Outputs of the source stack when promoting. */
  sourceApps?: Readonly<Record<string, AppOutput>>;
}

/** The image an app deploys and its provenance. */
export interface AppRelease {
  /** `<repository>@sha256:...`. */
  image: pulumi.Output<string>;
  /** `sha256:...`. */
  digest: pulumi.Output<string>;
  /** Repository. */
  repository: string;
  /** Pushed tag references (empty when promoted). */
  tags: pulumi.Output<string[]>;
  /** Version. */
  version?: string;
  /** Git SHA. */
  revision?: string;
  /** Provenance. */
  source: AppOutput["source"];
  /** When this environment's tag was pointed at the digest (promotions only). */
  promotedAt?: pulumi.Output<string>;
}

/** Builds the app's image (build mode) or picks the promoted digest (promote mode). */
export function appRelease(args: AppReleaseArgs): AppRelease {
  const { app, settings } = args;
  if (settings.images.mode === "promote") {
    const promoted = promotedImage(app.name, settings.images.fromStack, args.sourceApps, {
      pins: settings.images.pins,
      rollback: settings.images.rollback,
      requireSourceMatch: settings.images.requireSourceMatch,
    });
    // The environment and version tags follow the digest this environment runs; the bytes
    // are copied in the registry, nothing is rebuilt.
    const tagNames = [promoted.version, settings.environment].filter(
      (t): t is string => t !== undefined,
    );
    const tags = tagNames.map(
      (tag) =>
        new RegistryTag(`${app.name}-tag-${tag === settings.environment ? "env" : "version"}`, {
          repository: promoted.repository,
          digest: promoted.digest,
          tag,
          ...(args.credentials
            ? { username: args.credentials.username, password: args.credentials.password }
            : {}),
        }),
    );
    return {
      image: pulumi.output(promoted.image),
      digest: pulumi.output(promoted.digest),
      repository: promoted.repository,
      tags: pulumi
        .all(tags.map((t) => t.tag))
        .apply((names) => names.map((name) => `${promoted.repository}:${name}`)),
      ...(promoted.version !== undefined ? { version: promoted.version } : {}),
      ...(promoted.revision !== undefined ? { revision: promoted.revision } : {}),
      source: { ...promoted.source },
      ...(tags.at(-1) ? { promotedAt: tags.at(-1)!.taggedAt } : {}),
    };
  }
  const plan = imagePlan({
    app,
    environment: settings.environment,
    registry: settings.registry,
    build: settings.build,
    tags: settings.tags,
    ...(args.sourceUrl ? { sourceUrl: args.sourceUrl } : {}),
  });
  const built = new PythonImage(`${app.name}-image`, {
    context: path.join(args.root, app.path),
    namedContexts: Object.fromEntries(
      Object.entries(plan.namedContexts).map(([n, dir]) => [n, path.join(args.root, dir)]),
    ),
    dockerfile: renderDockerfile(plan.dockerfile),
    repository: plan.repository,
    tags: plan.tags.tags,
    platforms: app.build.platforms,
    target: app.build.target,
    buildArgs: plan.buildArgs,
    labels: plan.labels,
    push: settings.build.push,
    buildOnPreview: settings.build.buildOnPreview,
    registryCache: settings.build.registryCache,
    network: settings.build.network,
    ...(settings.build.builder !== undefined ? { builder: settings.build.builder } : {}),
    ...(args.credentials ? { registry: args.credentials } : {}),
    ...(args.pipConf ? { pipConf: args.pipConf } : {}),
  });
  return {
    image: built.ref,
    digest: built.digest,
    repository: plan.repository,
    tags: built.tags,
    ...(app.version !== undefined ? { version: app.version } : {}),
    ...(app.revision !== undefined ? { revision: app.revision.sha } : {}),
    source: { stack: settings.stack, kind: "build" },
  };
}

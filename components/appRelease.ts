/**
 * Where one app's image comes from in this environment: built here from source, or promoted
 * by digest from the previous environment's stack outputs (a pin overrides for rollback).
 * The component parents the docker-build image (through PythonImage) or the registry-side
 * tags, so `pulumi stack --show-urns` shows each app's release under one node.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import type { AppSettings, Settings } from "../stacks/types";
import { contextEntries, stageContext, type ContextEntry } from "../stacks/contextFiles";
import { buildRecord } from "../model/buildRecord";
import { renderDockerfile } from "../model/dockerfile";
import { planFor, type ImagePlan } from "../model/imagePlan";
import type { BuildRecord } from "../model/rebuildReasons";
import { promotedImage, type AppOutput, type PromotedImage } from "../model/promotion";
import { memoryBytes } from "../policy/vocabulary";
import { ImageSize } from "./imageSize";
import { PythonImage, type RegistryCredentials } from "./pythonImage";
import { RegistryTag } from "./registryTag";
import { ImageEvidence, type SigningKey } from "./supplyChain";
import type { Evidence } from "../model/supplyChain";

/** Arguments of {@link AppRelease}. */
export interface AppReleaseArgs {
  /** The app, as resolved by the stack's settings. */
  app: AppSettings;
  /** Stack settings (mode, registry, build and tag policy). */
  settings: Settings;
  /** Project root, to locate the build context. */
  root: string;
  /** Registry credentials (password a secret). @default anonymous */
  credentials?: RegistryCredentials;
  /** pip.conf secret for private indexes. @default none */
  pipConf?: pulumi.Output<string>;
  /** Source repository URL for the OCI labels. @default no source label */
  sourceUrl?: string;
  /** Outputs of the source stack when promoting. @default none (build mode) */
  sourceApps?: Readonly<Record<string, AppOutput>>;
  /**
   * The supply chain: the key that signs what this stack builds, the public key (PEM) that
   * verifies, the OSV database that scans, and what the program verified of a promoted
   * digest. @default none (nothing signed, verified or scanned)
   */
  supplyChain?: {
    signingKey?: pulumi.Output<SigningKey>;
    publicKey?: string;
    database?: string;
    verified?: Evidence;
  };
}

/**
 * Until this component existed, the image and the registry tags were created at the stack
 * root. Each child says so in an alias, so it keeps its identity (the docker-build Image under
 * PythonImage inherits the alias) and existing stacks replace nothing.
 */
const ROOT_ALIAS: pulumi.Alias = { parent: pulumi.rootStackResource };

/** The image an app deploys and its provenance. */
export class AppRelease extends pulumi.ComponentResource {
  /** `<repository>@sha256:...`: what the pods run. */
  readonly image: pulumi.Output<string>;
  /** `sha256:...`. */
  readonly digest: pulumi.Output<string>;
  /** Full tag references pushed for (or pointed at) the digest. */
  readonly tags: pulumi.Output<string[]>;
  /** Repository without tag or digest. */
  readonly repository: string;
  /** App version, if any. */
  readonly version: string | undefined;
  /** Git SHA of the build, if known. */
  readonly revision: string | undefined;
  /** Provenance: the stack and kind (build, promotion, pin, rollback). */
  readonly source: AppOutput["source"];
  /** When this environment's tag was pointed at the digest (promotions only). */
  readonly promotedAt: pulumi.Output<string> | undefined;
  /** What went into the build key (builds only), which the next preview compares with. */
  readonly build: BuildRecord | undefined;
  /** Compressed bytes of the pushed image (builds that push). */
  readonly size: pulumi.Output<number> | undefined;
  /** The gates a gated promotion passed, and any break-glass reason. */
  readonly gates: PromotedImage["gates"];
  /** The digest's SBOM, signature and scan, when the stack signs or verifies. */
  readonly evidence: ImageEvidence | undefined;

  constructor(name: string, args: AppReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pyfleet:release:AppRelease", name, {}, opts);
    const { app, settings } = args;
    // Child names stay as they were at the stack root (`<app>-image`, `<app>-tag-env`).
    const childOpts = (): pulumi.CustomResourceOptions & pulumi.ComponentResourceOptions => ({
      parent: this,
      aliases: [ROOT_ALIAS],
    });

    if (settings.images.mode === "promote") {
      const promoted = promotedImage(app.name, settings.images.fromStack, args.sourceApps, {
        pins: settings.images.pins,
        rollback: settings.images.rollback,
        requireSourceMatch: settings.images.requireSourceMatch,
        gates: settings.images.gates,
      });
      this.gates = promoted.gates;
      // The environment and version tags follow the digest this environment runs; the bytes
      // are copied in the registry, nothing is rebuilt.
      const tagNames = [promoted.version, settings.environment].filter(
        (t): t is string => t !== undefined,
      );
      const tags = tagNames.map(
        (tag) =>
          new RegistryTag(
            `${app.name}-tag-${tag === settings.environment ? "env" : "version"}`,
            {
              repository: promoted.repository,
              digest: promoted.digest,
              tag,
              ...(args.credentials
                ? { username: args.credentials.username, password: args.credentials.password }
                : {}),
            },
            childOpts(),
          ),
      );
      const chain = args.supplyChain;
      this.evidence =
        chain?.verified !== undefined
          ? new ImageEvidence(
              `${app.name}-evidence`,
              {
                image: promoted.image,
                mode: "verified",
                verified: chain.verified,
                ...(chain.publicKey !== undefined ? { publicKey: chain.publicKey } : {}),
                ...(chain.database !== undefined ? { database: chain.database } : {}),
              },
              { parent: this },
            )
          : undefined;
      // Verified while the program ran; the record sits beside the Deployment, which keeps
      // the digest known in previews.
      this.image = pulumi.output(promoted.image);
      this.digest = pulumi.output(promoted.digest);
      this.repository = promoted.repository;
      this.tags = pulumi
        .all(tags.map((t) => t.tag))
        .apply((names) => names.map((tag) => `${promoted.repository}:${tag}`));
      this.version = promoted.version;
      this.revision = promoted.revision;
      this.source = { ...promoted.source };
      this.promotedAt = tags.at(-1)?.taggedAt;
      this.build = undefined;
      this.size = undefined;
    } else {
      const plan = planFor(settings, app, args.sourceUrl);
      const dockerfile = renderDockerfile(plan.dockerfile);
      this.build = recordOf(args.root, app, plan, dockerfile);
      // The build reads a staged copy of each context (what .dockerignore leaves in, git's
      // modes, one mtime) at a path relative to the project: the same from every checkout.
      const version = this.build.key.slice(0, 16);
      const context = stageContext(
        args.root,
        path.join(args.root, app.path),
        `${app.name}@${version}`,
        entriesOf(path.join(args.root, app.path)),
      );
      const named = Object.fromEntries(
        Object.entries(plan.namedContexts).map(([n, dir]) => [
          n,
          stageContext(
            args.root,
            path.join(args.root, dir),
            `${app.name}.${n}@${version}`,
            entriesOf(path.join(args.root, dir)),
          ),
        ]),
      );
      const built = new PythonImage(
        `${app.name}-image`,
        {
          context,
          namedContexts: named,
          dockerfile,
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
        },
        childOpts(),
      );
      // The pushed image's size, checked against its budget before any Deployment takes it.
      const measured = settings.build.push
        ? new ImageSize(
            `${app.name}-size`,
            {
              app: app.name,
              repository: plan.repository,
              digest: built.digest,
              ...(app.build.maxImageSize !== undefined
                ? {
                    budget: app.build.maxImageSize,
                    budgetBytes: memoryBytes(app.build.maxImageSize),
                  }
                : {}),
              ...(args.credentials
                ? { username: args.credentials.username, password: args.credentials.password }
                : {}),
            },
            { parent: this },
          )
        : undefined;
      const pushed = measured
        ? pulumi.interpolate`${plan.repository}@${measured.digest}`
        : built.ref;
      // Signed, with its SBOM attested, before any Deployment takes it.
      const chain = args.supplyChain;
      this.evidence =
        chain?.signingKey !== undefined && settings.build.push
          ? new ImageEvidence(
              `${app.name}-evidence`,
              {
                image: pushed,
                mode: "sign",
                signingKey: chain.signingKey,
                ...(chain.publicKey !== undefined ? { publicKey: chain.publicKey } : {}),
                ...(chain.database !== undefined ? { database: chain.database } : {}),
                ...(args.credentials
                  ? { username: args.credentials.username, password: args.credentials.password }
                  : {}),
              },
              { parent: this },
            )
          : undefined;
      // The Deployment takes the digest once the record exists (its id is known then).
      this.image = this.evidence
        ? pulumi.all([pushed, this.evidence.id]).apply(([image]) => image)
        : pushed;
      this.digest = measured ? measured.digest : built.digest;
      this.size = measured?.bytes;
      this.repository = plan.repository;
      this.tags = built.tags;
      this.version = app.version;
      this.revision = app.revision?.sha;
      this.source = { stack: settings.stack, kind: "build" };
      this.promotedAt = undefined;
      this.gates = undefined;
    }

    this.registerOutputs({
      image: this.image,
      digest: this.digest,
      tags: this.tags,
      repository: this.repository,
      version: this.version,
      revision: this.revision,
      source: this.source,
      promotedAt: this.promotedAt,
      build: this.build,
      size: this.size,
      gates: this.gates,
    });
  }
}

/** Context listings by absolute folder: apps that share a folder list it once per run. */
const listed = new Map<string, ContextEntry[]>();
function entriesOf(folder: string): ContextEntry[] {
  let entries = listed.get(folder);
  if (!entries) listed.set(folder, (entries = contextEntries(folder)));
  return entries;
}

/** The build record of one app's image: its key and what went into it. */
export function recordOf(
  root: string,
  app: AppSettings,
  plan: ImagePlan,
  dockerfile: string,
): BuildRecord {
  const context = path.join(root, app.path);
  return buildRecord({
    spec: plan.dockerfile,
    dockerfile,
    target: app.build.target,
    platforms: app.build.platforms,
    buildArgs: plan.buildArgs,
    labels: plan.labels,
    contexts: {
      ".": entriesOf(context),
      ...Object.fromEntries(
        Object.entries(plan.namedContexts).map(([n, dir]) => [n, entriesOf(path.join(root, dir))]),
      ),
    },
    readFile: (file) => {
      try {
        return readFileSync(path.join(context, file), "utf8");
      } catch {
        return undefined;
      }
    },
    parseYaml: (text) => parseYaml(text) as unknown,
  });
}

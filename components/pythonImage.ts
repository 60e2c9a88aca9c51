/**
 * One app image built with BuildKit through `@pulumi/docker-build`, from a generated Dockerfile,
 * pushed with its version, `sha-<short>` and environment tags. Consumers get the digest
 * reference, never a tag.
 */
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { PIP_CONF_SECRET } from "../model/dockerfile";
import { looksLikeSecret } from "../policy/vocabulary";

/** Registry credentials for pushes and cache. */
export interface RegistryCredentials {
  /** Registry `host[:port]`. */
  address: string;
  /** User name. */
  username: string;
  /** Password or token (a secret Output). */
  password: pulumi.Input<string>;
}

/** Arguments of {@link PythonImage}. */
export interface PythonImageArgs {
  /** Build context: the app folder (absolute path). */
  context: string;
  /** Named build contexts the Dockerfile mounts, by name: absolute folder paths. @default {} */
  namedContexts?: Record<string, string>;
  /** Dockerfile text (generated). */
  dockerfile: string;
  /** Repository without tag, e.g. `registry:5000/pyfleet/dashboard`. */
  repository: string;
  /** Tags to push (bare tags, e.g. `1.2.0`, `sha-1a2b3c4`, `dev`). */
  tags: string[];
  /** Target platforms. @default ["linux/amd64"] */
  platforms?: string[];
  /** Dockerfile target stage. @default "production" */
  target?: string;
  /** Build arguments; never secrets (they persist in the image history). @default {} */
  buildArgs?: Record<string, string>;
  /** OCI labels. @default {} */
  labels?: Record<string, string>;
  /** Whether to push to the registry. @default true */
  push?: boolean;
  /** Whether previews run the build. @default false */
  buildOnPreview?: boolean;
  /** Whether to read and write `<repository>:buildcache`. @default true */
  registryCache?: boolean;
  /** buildx builder name (e.g. a remote BuildKit). @default the provider's default builder */
  builder?: string;
  /** Network mode of RUN steps. @default "default" */
  network?: "default" | "host" | "none";
  /** Registry credentials. @default anonymous */
  registry?: RegistryCredentials;
  /** pip configuration for private indexes, mounted as a BuildKit secret. @default none */
  pipConf?: pulumi.Input<string>;
}

/** A built and pushed app image. */
export class PythonImage extends pulumi.ComponentResource {
  /** `sha256:...` digest of the pushed manifest (list). */
  readonly digest: pulumi.Output<string>;
  /** `<repository>@<digest>`: what every consumer deploys. */
  readonly ref: pulumi.Output<string>;
  /** Full tag references that were pushed. */
  readonly tags: pulumi.Output<string[]>;

  constructor(name: string, args: PythonImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pyfleet:image:PythonImage", name, {}, opts);
    for (const key of Object.keys(args.buildArgs ?? {})) {
      if (looksLikeSecret(key)) {
        throw new Error(
          `build argument ${key} of image "${name}" looks like a secret; build arguments are ` +
            "stored in the image history, pass it as a BuildKit secret instead",
        );
      }
    }
    if (args.tags.length === 0) {
      throw new Error(`image "${name}" needs at least one tag`);
    }
    const push = args.push ?? true;
    const cacheRef = `${args.repository}:buildcache`;
    const registryCache = (args.registryCache ?? true) && push;
    const secrets: Record<string, pulumi.Input<string>> = {};
    if (args.pipConf !== undefined) secrets[PIP_CONF_SECRET] = pulumi.secret(args.pipConf);

    const image = new dockerBuild.Image(
      name,
      {
        context: {
          location: args.context,
          ...(Object.keys(args.namedContexts ?? {}).length > 0
            ? {
                named: Object.fromEntries(
                  Object.entries(args.namedContexts ?? {}).map(([n, dir]) => [
                    n,
                    { location: dir },
                  ]),
                ),
              }
            : {}),
        },
        dockerfile: { inline: args.dockerfile },
        tags: args.tags.map((tag) => `${args.repository}:${tag}`),
        platforms: (args.platforms ?? ["linux/amd64"]) as dockerBuild.Platform[],
        target: args.target ?? "production",
        buildArgs: args.buildArgs ?? {},
        labels: args.labels ?? {},
        // A registry export whose layers carry SOURCE_DATE_EPOCH's time, not the build's, so two
        // builds of one commit push one digest (`push: true` has no rewrite-timestamp).
        push: false,
        ...(push ? { exports: [{ raw: "type=registry,rewrite-timestamp=true" }] } : {}),
        buildOnPreview: args.buildOnPreview ?? false,
        network: args.network ?? "default",
        ...(args.builder !== undefined ? { builder: { name: args.builder } } : {}),
        ...(registryCache
          ? {
              cacheFrom: [{ registry: { ref: cacheRef } }],
              cacheTo: [
                {
                  registry: {
                    ref: cacheRef,
                    mode: dockerBuild.CacheMode.Max,
                    imageManifest: true,
                    ociMediaTypes: true,
                  },
                },
              ],
            }
          : {}),
        ...(args.registry
          ? {
              registries: [
                {
                  address: args.registry.address,
                  username: args.registry.username,
                  password: pulumi.secret(args.registry.password),
                },
              ],
            }
          : {}),
        ...(Object.keys(secrets).length > 0 ? { secrets } : {}),
      },
      { parent: this },
    );

    this.digest = image.digest;
    this.ref = pulumi.interpolate`${args.repository}@${image.digest}`;
    this.tags = pulumi.output(args.tags.map((tag) => `${args.repository}:${tag}`));
    this.registerOutputs({ digest: this.digest, ref: this.ref, tags: this.tags });
  }
}

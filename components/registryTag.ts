/**
 * A registry-side tag: points `<repository>:<tag>` at an existing manifest by copying the
 * manifest's exact bytes under the new tag, so the tag resolves to the very digest an
 * environment runs (rebuilding or re-indexing would mint a new digest). Promotion uses it for
 * the environment and version tags. Removing the resource leaves the tag in the registry:
 * tags are history, and many registries refuse tag deletion.
 */
import * as pulumi from "@pulumi/pulumi";
import { craneSession } from "./crane";

/** Inputs of {@link RegistryTag}. */
export interface RegistryTagArgs {
  /** Repository with registry host, e.g. `registry.example.com/team/app`. */
  repository: pulumi.Input<string>;
  /** `sha256:...` digest of the manifest to tag. */
  digest: pulumi.Input<string>;
  /** Tag to point at it. */
  tag: pulumi.Input<string>;
  /** Registry user. @default anonymous */
  username?: pulumi.Input<string>;
  /** Registry password (a secret). @default anonymous */
  password?: pulumi.Input<string>;
}

export interface TagInputs {
  repository: string;
  digest: string;
  tag: string;
  username?: string;
  password?: string;
}

/**
 * Points `tag` at `digest` with crane, which copies the manifest's bytes registry-side and
 * retries transient failures; then checks the tag resolves to the digest.
 */
export async function putTag(inputs: TagInputs): Promise<void> {
  const crane = craneSession(inputs.repository, inputs.username, inputs.password);
  try {
    await crane.run(["tag", `${inputs.repository}@${inputs.digest}`, inputs.tag]);
    const digest = await crane.run(["digest", `${inputs.repository}:${inputs.tag}`]);
    if (digest !== inputs.digest) {
      throw new Error(
        `registry stored ${inputs.repository}:${inputs.tag} as ${digest}, expected ${inputs.digest}`,
      );
    }
  } finally {
    crane.close();
  }
}

const provider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: TagInputs) {
    await putTag(inputs);
    return {
      id: `${inputs.repository}:${inputs.tag}`,
      outs: { ...inputs, taggedAt: new Date().toISOString() },
    };
  },
  async update(_id: string, _olds: TagInputs, news: TagInputs) {
    await putTag(news);
    return { outs: { ...news, taggedAt: new Date().toISOString() } };
  },
  diff(_id: string, olds: TagInputs, news: TagInputs) {
    const changes =
      olds.digest !== news.digest || olds.tag !== news.tag || olds.repository !== news.repository;
    return Promise.resolve({
      changes,
      replaces: olds.tag !== news.tag || olds.repository !== news.repository ? ["tag"] : [],
    });
  },
};

/** `<repository>:<tag>` pointing at an existing digest, without a rebuild. */
export class RegistryTag extends pulumi.dynamic.Resource {
  /** The tag (without the repository). */
  declare readonly tag: pulumi.Output<string>;
  /** The digest it resolves to. */
  declare readonly digest: pulumi.Output<string>;
  /** When the tag was last pointed at this digest (the time of promotion). */
  declare readonly taggedAt: pulumi.Output<string>;

  constructor(name: string, args: RegistryTagArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      {
        ...args,
        ...(args.password !== undefined ? { password: pulumi.secret(args.password) } : {}),
        // Output only: set by the provider when it writes the tag.
        taggedAt: undefined,
      },
      { ...opts, additionalSecretOutputs: ["password"] },
      "pyfleet",
      "RegistryTag",
    );
  }
}

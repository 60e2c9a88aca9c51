/**
 * A registry-side tag: points `<repository>:<tag>` at an existing manifest by copying the
 * manifest's exact bytes under the new tag, so the tag resolves to the very digest an
 * environment runs (rebuilding or re-indexing would mint a new digest). Promotion uses it for
 * the environment and version tags. Removing the resource leaves the tag in the registry:
 * tags are history, and many registries refuse tag deletion.
 */
import * as pulumi from "@pulumi/pulumi";

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

/** Environment variable naming the crane binary (infra/crane.sh builds one); else PATH's. */
export const CRANE_VARIABLE = "PYFLEET_CRANE";

/**
 * Points `tag` at `digest` with crane (go-containerregistry), which copies the manifest's bytes
 * registry-side, retries transient failures, and authenticates with docker credential helpers
 * and token auth. Explicit credentials go to a private docker config for the one call.
 * Self-contained: Pulumi serializes this function into the dynamic provider.
 */
export async function putTag(inputs: TagInputs): Promise<void> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { execFile } = require("node:child_process") as typeof import("node:child_process");
  const fs = require("node:fs") as typeof import("node:fs");
  const os = require("node:os") as typeof import("node:os");
  const nodePath = require("node:path") as typeof import("node:path");
  /* eslint-enable @typescript-eslint/no-require-imports */
  const named = process.env["PYFLEET_CRANE"]?.trim() ?? "";
  const crane = named === "" ? "crane" : named;
  const host = inputs.repository.slice(0, inputs.repository.indexOf("/"));
  const loopback = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(host);
  const env = { ...process.env };
  let dir: string | undefined;
  if (inputs.username !== undefined && inputs.password !== undefined) {
    dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "pyfleet-registry-"));
    const auth = Buffer.from(`${inputs.username}:${inputs.password}`).toString("base64");
    fs.writeFileSync(
      nodePath.join(dir, "config.json"),
      JSON.stringify({ auths: { [host]: { auth } } }),
      {
        mode: 0o600,
      },
    );
    env["DOCKER_CONFIG"] = dir;
  }
  const run = (args: string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile(
        crane,
        [...(loopback ? ["--insecure"] : []), ...args],
        { env, timeout: 120_000 },
        (error, stdout, stderr) =>
          error
            ? reject(new Error(`crane ${args.join(" ")}: ${(stderr || error.message).trim()}`))
            : resolve(stdout.trim()),
      ),
    );
  try {
    await run(["tag", `${inputs.repository}@${inputs.digest}`, inputs.tag]);
    const digest = await run(["digest", `${inputs.repository}:${inputs.tag}`]);
    if (digest !== inputs.digest) {
      throw new Error(
        `registry stored ${inputs.repository}:${inputs.tag} as ${digest}, expected ${inputs.digest}`,
      );
    }
  } finally {
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
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

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

interface TagInputs {
  repository: string;
  digest: string;
  tag: string;
  username?: string;
  password?: string;
}

const MANIFEST_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** Attempts per registry request when the registry answers 5xx. */
const RETRIES = 4;

/** Copies the manifest `digest` to `tag` through the registry HTTP API (v2). */
async function putTag(inputs: TagInputs): Promise<void> {
  const slash = inputs.repository.indexOf("/");
  const host = inputs.repository.slice(0, slash);
  const name = inputs.repository.slice(slash + 1);
  const loopback = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(host);
  const base = `${loopback ? "http" : "https"}://${host}/v2/${name}/manifests/`;
  const basic =
    inputs.username !== undefined && inputs.password !== undefined
      ? `Basic ${Buffer.from(`${inputs.username}:${inputs.password}`).toString("base64")}`
      : undefined;
  let auth = basic;
  const callOnce = async (url: string, init: RequestInit): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (auth) headers.set("Authorization", auth);
    let response = await fetch(url, { ...init, headers });
    const challenge = response.headers.get("www-authenticate") ?? "";
    if (response.status === 401 && challenge.startsWith("Bearer ")) {
      const params: Record<string, string> = {};
      for (const match of challenge.slice(7).matchAll(/(\w+)="([^"]*)"/g)) {
        if (match[1] !== undefined && match[2] !== undefined) params[match[1]] = match[2];
      }
      const tokenUrl = new URL(params["realm"] ?? "");
      if (params["service"]) tokenUrl.searchParams.set("service", params["service"]);
      tokenUrl.searchParams.set("scope", `repository:${name}:pull,push`);
      const tokenResponse = await fetch(tokenUrl, {
        headers: basic ? { Authorization: basic } : {},
      });
      const token = (await tokenResponse.json()) as { token?: string; access_token?: string };
      auth = `Bearer ${token.token ?? token.access_token ?? ""}`;
      headers.set("Authorization", auth);
      response = await fetch(url, { ...init, headers });
    }
    return response;
  };
  // A registry can answer 5xx while another request writes the same repository (the
  // distribution registry reads a half-written link file as "invalid checksum digest
  // format"); such answers are retried a bounded number of times.
  const call = async (url: string, init: RequestInit): Promise<Response> => {
    let response = await callOnce(url, init);
    for (let attempt = 1; attempt < RETRIES && response.status >= 500; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
      response = await callOnce(url, init);
    }
    return response;
  };
  const source = await call(base + inputs.digest, { headers: { Accept: MANIFEST_TYPES } });
  if (!source.ok) {
    throw new Error(`cannot read ${inputs.repository}@${inputs.digest}: HTTP ${source.status}`);
  }
  const contentType =
    source.headers.get("content-type") ?? "application/vnd.oci.image.manifest.v1+json";
  const body = Buffer.from(await source.arrayBuffer());
  const put = await call(base + inputs.tag, {
    method: "PUT",
    headers: { "Content-Type": contentType },
    body,
  });
  if (!put.ok) {
    throw new Error(
      `cannot tag ${inputs.repository}:${inputs.tag}: HTTP ${put.status} ${await put.text()}`,
    );
  }
  const digest = put.headers.get("docker-content-digest");
  if (digest !== null && digest !== inputs.digest) {
    throw new Error(
      `registry stored ${inputs.repository}:${inputs.tag} as ${digest}, expected ${inputs.digest}`,
    );
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

/** Questions to the loopback registry, over its HTTP API (no docker client involved). */

const MANIFEST_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/**
 * The repository's name inside the registry (`pyfleet/vectors` of `host:port/pyfleet/vectors`);
 * undefined for a repository elsewhere, which then resolves to nothing.
 */
function repositoryName(registry: string, repository: string): string | undefined {
  // The stacks name the loopback registry localhost:<port>; the harness reaches it by address.
  const loopback = (host: string) => host.replace(/^localhost:/, "127.0.0.1:");
  const [host, ...rest] = repository.split("/");
  return loopback(host ?? "") === loopback(registry) && rest.length > 0
    ? rest.join("/")
    : undefined;
}

/** HTTP status of the registry's `/v2/` (0 when it does not answer). */
export async function registryStatus(registry: string): Promise<number> {
  try {
    return (await fetch(`http://${registry}/v2/`)).status;
  } catch {
    return 0;
  }
}

/** The digest a tag (or digest) resolves to, or undefined when the registry has none. */
export async function tagDigest(
  registry: string,
  repository: string,
  tag: string,
): Promise<string | undefined> {
  const name = repositoryName(registry, repository);
  if (name === undefined) return undefined;
  const response = await fetch(`http://${registry}/v2/${name}/manifests/${tag}`, {
    method: "HEAD",
    headers: { Accept: MANIFEST_TYPES },
  });
  return response.ok ? (response.headers.get("docker-content-digest") ?? undefined) : undefined;
}

interface Manifest {
  layers?: { digest: string }[];
  manifests?: { digest: string; platform?: { os?: string } }[];
}

/** Layer digests of an image's single-platform manifest (the index's attestations skipped). */
export async function imageLayers(
  registry: string,
  repository: string,
  digest: string,
): Promise<string[]> {
  const name = repositoryName(registry, repository);
  if (name === undefined) return [];
  const get = async (ref: string) =>
    (await (
      await fetch(`http://${registry}/v2/${name}/manifests/${ref}`, {
        headers: { Accept: MANIFEST_TYPES },
      })
    ).json()) as Manifest;
  let manifest = await get(digest);
  if (manifest.manifests) {
    const image =
      manifest.manifests.find((m) => m.platform?.os !== "unknown") ?? manifest.manifests[0];
    manifest = image ? await get(image.digest) : {};
  }
  return (manifest.layers ?? []).map((l) => l.digest);
}

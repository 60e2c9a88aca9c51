/**
 * Image checks: pods run images pinned by digest with a consistent pull policy (K12, K13), from
 * allowed registries; `@pulumi/docker-build` images push only to allowed registries and never
 * carry secrets in build arguments (P2, D11).
 */
import type { PyfleetResourcePolicy } from "./framework";
import { resourcePolicy } from "./framework";
import { WORKLOAD_TYPES, containersOf, podOf } from "./pods";
import { message, show, type Resource } from "./resource";
import { asArray, asRecord, asString } from "./values";
import { MUTABLE_TAG, isDigestRef, looksLikeSecret, tagOf } from "./vocabulary";

/** Type token of `@pulumi/docker-build`'s Image. */
export const BUILD_IMAGE_TYPE = "docker-build:index:Image";

/** Configuration of the registry allowlist. */
export interface RegistryConfig {
  /** Registries or repository prefixes images may come from; empty allows every registry. */
  allowedRegistries?: string[];
}

/** An image reference split into repository (with registry), tag and digest. */
export interface ImageRef {
  /** Registry host, `docker.io` when the reference names none. */
  registry: string;
  /** `registry/path` without tag or digest, Docker Hub names expanded (`docker.io/library/x`). */
  repository: string;
  /** The tag, when the reference has one. */
  tag?: string;
  /** The digest, when the reference has one. */
  digest?: string;
}

/** Splits an image reference the way Docker does. */
export function parseImage(reference: string): ImageRef {
  let rest = reference;
  let digest: string | undefined;
  const atSign = rest.indexOf("@");
  if (atSign >= 0) {
    digest = rest.slice(atSign + 1);
    rest = rest.slice(0, atSign);
  }
  const tag = tagOf(rest);
  if (tag !== undefined) rest = rest.slice(0, rest.length - tag.length - 1);
  const parts = rest.split("/");
  const first = parts[0] ?? "";
  const hasRegistry =
    parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost");
  const registry = hasRegistry ? first : "docker.io";
  const path = hasRegistry ? parts.slice(1).join("/") : rest;
  const repository =
    `${registry}/` + (registry === "docker.io" && !path.includes("/") ? `library/${path}` : path);
  return {
    registry,
    repository,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/** True when the image's repository is under one of `allowed` (registry hosts or prefixes). */
export function isAllowedRegistry(reference: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  const { repository } = parseImage(reference);
  return allowed.some((entry) => {
    const prefix = entry.replace(/\/+$/, "");
    return repository === prefix || repository.startsWith(`${prefix}/`);
  });
}

/** K12: every container image pinned by digest, never by the `latest` tag. */
export function checkImageDigest(resource: Resource): string[] {
  const pod = podOf(resource);
  if (!pod) return [];
  return containersOf(pod).flatMap((c) => {
    const image = asString(c.spec["image"]);
    if (image === undefined) return [];
    const ref = parseImage(image);
    const fix = "deploy it by digest (repository@sha256:...)";
    if (!isDigestRef(image)) {
      const how =
        ref.tag === undefined
          ? "without a tag or digest (that is the mutable latest tag)"
          : ref.tag === MUTABLE_TAG
            ? `by the mutable tag "${MUTABLE_TAG}"`
            : `by the tag "${ref.tag}", not by digest`;
      return [message(resource, `${c.label} runs image "${image}" ${how}`, fix, "K12")];
    }
    if (ref.tag === MUTABLE_TAG) {
      const problem = `${c.label} image "${image}" names the tag "${MUTABLE_TAG}"`;
      return [message(resource, problem, "drop the tag; the digest alone names the image", "K12")];
    }
    return [];
  });
}

/** K13: digest-pinned images are pulled IfNotPresent (the default for them). */
export function checkPullPolicy(resource: Resource): string[] {
  const pod = podOf(resource);
  if (!pod) return [];
  return containersOf(pod).flatMap((c) => {
    const image = asString(c.spec["image"]);
    const policy = asString(c.spec["imagePullPolicy"]);
    if (image === undefined || !isDigestRef(image) || policy === undefined) return [];
    if (policy === "IfNotPresent") return [];
    const why =
      policy === "Never"
        ? "so a node without the image cannot start the pod"
        : "though a digest never changes, so every start depends on the registry";
    const problem = `${c.label} sets imagePullPolicy to ${show(policy)} for a digest-pinned image, ${why}`;
    return [message(resource, problem, 'set it to "IfNotPresent" or leave it unset', "K13")];
  });
}

/** Container images and pushed tags come from the configured registries only. */
export function checkRegistry(resource: Resource, config: RegistryConfig = {}): string[] {
  const allowed = config.allowedRegistries ?? [];
  if (allowed.length === 0) return [];
  const list = allowed.join(", ");
  const fix = "use an allowed registry or extend allowedRegistries in the policy pack config";
  if (resource.type === BUILD_IMAGE_TYPE) {
    return (asArray(resource.props["tags"]) ?? []).flatMap((item, i) => {
      const tag = asString(item);
      if (tag === undefined || isAllowedRegistry(tag, allowed)) return [];
      const problem = `tags[${i}] "${tag}" pushes outside allowedRegistries (${list})`;
      return [message(resource, problem, fix, "image-registry")];
    });
  }
  const pod = podOf(resource);
  if (!pod) return [];
  return containersOf(pod).flatMap((c) => {
    const image = asString(c.spec["image"]);
    if (image === undefined || isAllowedRegistry(image, allowed)) return [];
    const problem = `${c.label} runs image "${image}" from outside allowedRegistries (${list})`;
    return [message(resource, problem, fix, "image-registry")];
  });
}

/** P2/D11: no secret-looking build argument names (they persist in the image history). */
export function checkBuildArgs(resource: Resource): string[] {
  const buildArgs = asRecord(resource.props["buildArgs"]);
  if (!buildArgs) return [];
  return Object.keys(buildArgs)
    .filter(looksLikeSecret)
    .map((key) =>
      message(
        resource,
        `buildArgs.${key} looks like a secret, and build arguments stay in the image history`,
        "pass it in secrets and read it with RUN --mount=type=secret",
        "P2",
      ),
    );
}

/** The image policies. */
export const imagePolicies: PyfleetResourcePolicy[] = [
  resourcePolicy({
    name: "image-digest",
    description: "Pods run images pinned by digest, never by the latest tag.",
    checklist: ["K12"],
    severity: "high",
    remediationSteps: "Reference images as repository@sha256:<digest>.",
    types: WORKLOAD_TYPES,
    check: checkImageDigest,
  }),
  resourcePolicy({
    name: "image-pull-policy",
    description: "Digest-pinned images are pulled IfNotPresent.",
    checklist: ["K13"],
    severity: "low",
    remediationSteps: 'Set imagePullPolicy to "IfNotPresent" or leave it unset.',
    types: WORKLOAD_TYPES,
    check: checkPullPolicy,
  }),
  resourcePolicy<RegistryConfig>({
    name: "image-registry",
    description: "Images are pulled from and pushed to allowed registries only.",
    checklist: [],
    severity: "high",
    remediationSteps: "Use a registry listed in allowedRegistries.",
    types: [...WORKLOAD_TYPES, BUILD_IMAGE_TYPE],
    configSchema: {
      properties: {
        allowedRegistries: {
          type: "array",
          items: { type: "string" },
          default: [],
          description:
            "Registry hosts or repository prefixes (e.g. ghcr.io/acme); empty allows every registry.",
        },
      },
    },
    check: checkRegistry,
  }),
  resourcePolicy({
    name: "image-build-args",
    description: "Image builds pass no secret-looking build arguments.",
    checklist: ["P2", "D11"],
    severity: "critical",
    remediationSteps: "Pass secrets through BuildKit secret mounts, never through buildArgs.",
    types: [BUILD_IMAGE_TYPE],
    check: checkBuildArgs,
  }),
];

/**
 * Image tags and OCI labels. Pure: the version, revision and policy come in as values.
 * Tags are for people (`1.4.0`, `sha-1a2b3c4`, `dev`); every consumer deploys the digest.
 */
import { TAG_PATTERN, isDigest, validateTagPart } from "../policy/vocabulary";

/** Length of the short SHA in `sha-<short>` tags (git's default abbreviation). */
export const SHORT_SHA_LENGTH = 7;

/** Git state an image is built from. */
export interface Revision {
  /** Full commit SHA (40 or 64 hex characters). */
  sha: string;
  /** Whether the build context has uncommitted changes. */
  dirty: boolean;
}

/** Inputs of tag computation. */
export interface TagInput {
  /** Repository without tag, e.g. `registry:5000/pyfleet/dashboard`. */
  repository: string;
  /** App version, if declared. */
  version?: string;
  /** Git revision, if known. */
  revision?: Revision;
  /** Environment name, also a tag. */
  environment: string;
  /** Whether a dirty tree may be built. */
  allowDirty: boolean;
  /** Whether a version is required. */
  requireVersion: boolean;
  /** App name, for error messages. */
  app: string;
}

/** Computed tags. */
export interface ImageTags {
  /** Full references `<repository>:<tag>`, version first. */
  refs: string[];
  /** The bare tags, in the same order. */
  tags: string[];
  /** `sha-<short>[-dirty]`, if a revision is known. */
  revisionTag?: string;
}

/** `sha-<short>` with `-dirty` when the tree has uncommitted changes. */
export function revisionTag(revision: Revision): string {
  if (!/^[0-9a-f]{7,64}$/.test(revision.sha)) {
    throw new Error(`invalid git SHA "${revision.sha}" (expected 7-64 lower-case hex digits)`);
  }
  return `sha-${revision.sha.slice(0, SHORT_SHA_LENGTH)}${revision.dirty ? "-dirty" : ""}`;
}

/** Computes the version, revision and environment tags; throws when the policy refuses. */
export function computeTags(input: TagInput): ImageTags {
  const problems: string[] = [];
  if (input.version === undefined) {
    if (input.requireVersion) {
      problems.push(
        `app "${input.app}" has no version and ${input.environment} refuses unversioned builds`,
      );
    }
  } else {
    const error = validateTagPart(input.version);
    if (error)
      problems.push(`app "${input.app}" version ${JSON.stringify(input.version)} ${error}`);
  }
  if (input.revision?.dirty && !input.allowDirty) {
    problems.push(
      `app "${input.app}" has uncommitted changes and ${input.environment} refuses dirty builds`,
    );
  }
  if (input.revision === undefined && !input.allowDirty) {
    problems.push(
      `app "${input.app}" has no git revision and ${input.environment} only builds committed code`,
    );
  }
  const envError = TAG_PATTERN.test(input.environment) ? undefined : "is not a valid tag";
  if (envError) problems.push(`environment ${JSON.stringify(input.environment)} ${envError}`);
  if (problems.length > 0) throw new Error(problems.join("; "));

  const tags: string[] = [];
  if (input.version !== undefined) tags.push(input.version);
  const revTag = input.revision ? revisionTag(input.revision) : undefined;
  if (revTag) tags.push(revTag);
  tags.push(input.environment);
  const unique = [...new Set(tags)];
  return {
    tags: unique,
    refs: unique.map((tag) => `${input.repository}:${tag}`),
    ...(revTag ? { revisionTag: revTag } : {}),
  };
}

/** `<repository>@<digest>`: the only way consumers refer to an image. */
export function digestRef(repository: string, digest: string): string {
  if (!isDigest(digest)) {
    throw new Error(`invalid image digest "${digest}" (expected sha256:<64 hex>)`);
  }
  return `${repository}@${digest}`;
}

/** Inputs of the OCI labels. */
export interface LabelInput {
  /** Image title (the app name). */
  title: string;
  /** One-line description. */
  description: string;
  /** App version. */
  version?: string;
  /** Full git SHA. */
  revision?: string;
  /** Source repository URL. */
  source?: string;
  /** Creation time; the commit time keeps builds reproducible. */
  created?: string;
  /** SPDX licence expression. */
  licenses?: string;
}

/** The org.opencontainers.image.* labels; absent values are left out, never empty. */
export function ociLabels(input: LabelInput): Record<string, string> {
  const labels: Record<string, string> = {
    "org.opencontainers.image.title": input.title,
    "org.opencontainers.image.description": input.description,
  };
  const optional: [string, string | undefined][] = [
    ["version", input.version],
    ["revision", input.revision],
    ["source", input.source],
    ["created", input.created],
    ["licenses", input.licenses],
  ];
  for (const [key, value] of optional) {
    if (value !== undefined && value !== "") labels[`org.opencontainers.image.${key}`] = value;
  }
  return labels;
}

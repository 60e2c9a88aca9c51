/**
 * An app image's build key: one hash of everything that determines the image, and nothing
 * that does not. Two checkouts of one commit give one key whatever their folder, umask, clone
 * time or mtimes, because the context enters as its files' paths, contents and git's two file
 * modes (644, 755) after .dockerignore, symlinks as their targets, folders by path alone; no
 * absolute path, owner or timestamp. Pure: `stacks/contextFiles.ts` reads the trees.
 */
import { createHash } from "node:crypto";
import type { ContextEntry } from "../stacks/contextFiles";

/** Everything that determines an image. */
export interface BuildKeyInputs {
  /** The generated Dockerfile's text. */
  dockerfile: string;
  /** Its target stage. */
  target: string;
  /** Target platforms (order does not matter). */
  platforms: readonly string[];
  /** Build arguments (never secrets). */
  buildArgs: Readonly<Record<string, string>>;
  /** OCI labels put on the image (those that vary per commit, e.g. the revision, included). */
  labels: Readonly<Record<string, string>>;
  /** Base images by reference, each with the digest it resolves to (unresolved: the reference). */
  baseImages: Readonly<Record<string, string>>;
  /** The main context (`.`) and each named context, as entry lists. */
  contexts: Readonly<Record<string, readonly ContextEntry[]>>;
  /** The settings the Dockerfile was generated from, by key (what the reasons name). */
  recipe?: Readonly<Record<string, string>>;
}

/** The version of the key's own format: a change to what it hashes changes every key. */
export const BUILD_KEY_FORMAT = 1;

/** JSON with object keys sorted at every level, so equal values give equal text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The hash of one context's entries, in path order. */
export function contextDigest(entries: readonly ContextEntry[]): string {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return createHash("sha256").update(canonical(sorted)).digest("hex");
}

/** The build key: a sha256 hex digest of the canonical form of the inputs. */
export function buildKey(inputs: BuildKeyInputs): string {
  const contexts = Object.fromEntries(
    Object.entries(inputs.contexts).map(([name, entries]) => [name, contextDigest(entries)]),
  );
  return createHash("sha256")
    .update(
      canonical({
        format: BUILD_KEY_FORMAT,
        dockerfile: inputs.dockerfile,
        target: inputs.target,
        platforms: [...inputs.platforms].sort(),
        buildArgs: inputs.buildArgs,
        labels: inputs.labels,
        baseImages: inputs.baseImages,
        contexts,
        recipe: inputs.recipe,
      }),
    )
    .digest("hex");
}

/** The registry tag that records a build of `key`: `key-` and the first 32 hex digits. */
export function keyTag(key: string): string {
  return `key-${key.slice(0, 32)}`;
}

/** Checks of building dev: the preview's plan, the pushed tags and the rendered manifests. */
import { defineCheck, ensure } from "../lib/check";
import { tail, type AppOut, type CommandRun, type ManifestFile } from "./observed";

/** A preview and the images it must plan. */
export interface PreviewObservation {
  /** The preview. */
  run: CommandRun;
  /** Apps whose `<app>-image` must be in the plan. */
  apps: string[];
}

/** The preview succeeded and planned an image per app. */
export const previewPlansImages = defineCheck<PreviewObservation>("preview-plans-images", (o) => {
  ensure(o.run.status === 0, `preview failed:\n${tail(o.run)}`);
  for (const app of o.apps) {
    ensure(o.run.output.includes(`${app}-image`), `no ${app}-image in the plan`);
  }
  return `${o.run.seconds.toFixed(1)}s`;
});

/** An app's outputs and what its tags resolve to in the registry. */
export interface TagsObservation {
  /** The app. */
  app: string;
  /** Its stack output, if any. */
  out: AppOut | undefined;
  /**
   * The tag the build must carry for its revision: `sha-<short>`, or `sha-<short>-dirty` when
   * the app's folder had uncommitted changes; undefined when no revision was known.
   */
  revisionTag: string | undefined;
  /** The environment tag, e.g. `dev`. */
  environmentTag: string;
  /** Digest each expected tag resolves to in the registry (undefined: not found). */
  resolved: Record<string, string | undefined>;
}

/** The tags the build must have pushed, version first. */
export function expectedTags(
  o: Pick<TagsObservation, "out" | "revisionTag" | "environmentTag">,
): string[] {
  return [o.out?.version, o.revisionTag, o.environmentTag].filter(
    (t): t is string => t !== undefined,
  );
}

/** Version, revision and environment tags all name the digest the stack deploys. */
export const tagsResolveToDigest = defineCheck<TagsObservation>("tags-resolve-to-digest", (o) => {
  const out = o.out;
  ensure(out, `no ${o.app} in the stack outputs`);
  ensure(/^sha256:[a-f0-9]{64}$/.test(out.digest), `bad digest ${out.digest}`);
  ensure(
    o.revisionTag !== undefined,
    "no git revision is known, so no sha-<short> tag can be checked",
  );
  const tags = expectedTags(o);
  for (const tag of tags) {
    const digest = o.resolved[tag];
    ensure(digest === out.digest, `${tag} -> ${digest ?? "not found"}, expected ${out.digest}`);
  }
  ensure(
    out.tags.includes(`${out.repository}:${o.revisionTag}`),
    `the stack outputs list no ${o.revisionTag} tag: ${out.tags.join(", ") || "no tags"}`,
  );
  return tags.map((t) => `${t}=${o.resolved[t]?.slice(7, 19)}`).join(" ");
});

/** An image reference and the manifests rendered for its stack. */
export interface PinObservation {
  /** The image the stack deploys, if it has one. */
  image: string | undefined;
  /** Every rendered manifest file. */
  files: ManifestFile[];
}

/** Exactly one rendered manifest deploys the image by its digest reference. */
export const manifestsPinDigest = defineCheck<PinObservation>("manifests-pin-digest", (o) => {
  ensure(o.image, "no outputs");
  const pinned = o.files.filter((f) => f.text.includes(`image: ${o.image}`));
  ensure(
    pinned.length === 1,
    `expected one manifest with image ${o.image}, found ${pinned.length} of ${o.files.length}`,
  );
  return pinned[0]!.path;
});

/** The apps a stack deployed and one that must not be among them. */
export interface LeftOutObservation {
  /** Apps in the stack outputs. */
  deployed: string[];
  /** The app configured with `enabled: false`. */
  disabled: string;
}

/** A disabled app is not deployed. */
export const appLeftOut = defineCheck<LeftOutObservation>("app-left-out", (o) => {
  ensure(!o.deployed.includes(o.disabled), `${o.disabled} was deployed although disabled`);
});

/**
 * The tags dev pushed, asked of the registry: the version, `sha-<short>` (with `-dirty` when
 * the app's folder has uncommitted changes) and `dev` all name the digest the stack deploys.
 */
import * as path from "node:path";
import { expectedTags, tagsResolveToDigest } from "../checks";
import { PIP_APPS, type Scenario } from "../lib/context";
import { appFolders, expectedRevisionTag } from "../lib/project";
import { tagDigest } from "../lib/registry";

/** Resolves each of dev's tags in the registry. */
export const registryTags: Scenario = {
  name: "registry tags",
  async run(ctx) {
    const folders = appFolders(ctx.project);
    for (const app of PIP_APPS) {
      const out = ctx.facts.devApps[app];
      const observed = {
        app,
        out,
        revisionTag: expectedRevisionTag(
          ctx.project,
          folders[app] ?? path.join("apps", app),
          ctx.env,
        ),
        environmentTag: "dev",
        resolved: {} as Record<string, string | undefined>,
      };
      for (const tag of expectedTags(observed)) {
        observed.resolved[tag] = out
          ? await tagDigest(ctx.local.registry, out.repository, tag)
          : undefined;
      }
      ctx.recorder.check(
        tagsResolveToDigest,
        `${app}: version, sha-<short> and dev tags resolve to the output digest`,
        observed,
      );
    }
  },
};

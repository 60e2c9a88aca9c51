/**
 * Which images a preview would rebuild, and why: the build record each app would get now
 * (components/appRelease.ts `recordOf`), against the one the stack's last `up` stored in its
 * outputs (`apps.<name>.build`). Stacks that promote never build and have none.
 */
import { recordOf } from "../components/appRelease";
import { renderDockerfile } from "../model/dockerfile";
import { planFor } from "../model/imagePlan";
import type { AppOutput } from "../model/promotion";
import { rebuildLine, rebuildReasons, type BuildRecord } from "../model/rebuildReasons";
import { sourceRepositoryUrl } from "../stacks/projectFiles";
import type { AppSettings, Settings } from "../stacks/types";

/** The build record `up` would store for `app` now. */
export function recordNow(
  settings: Settings,
  root: string,
  app: AppSettings,
  sourceUrl?: string,
): BuildRecord {
  const plan = planFor(settings, app, sourceUrl);
  return recordOf(root, app, plan, renderDockerfile(plan.dockerfile));
}

/** The reasons per app (empty: no rebuild); {} for a stack that promotes. */
export function rebuildsOf(
  settings: Settings,
  root: string,
  previous: Readonly<Record<string, AppOutput>> | undefined,
): Record<string, string[]> {
  if (settings.images.mode !== "build") return {};
  const out: Record<string, string[]> = {};
  const sourceUrl = sourceRepositoryUrl(root);
  for (const app of settings.apps) {
    out[app.name] = rebuildReasons(
      previous?.[app.name]?.build,
      recordNow(settings, root, app, sourceUrl),
    );
  }
  return out;
}

/** The lines a preview prints before the engine's plan. */
export function rebuildLines(rebuilds: Readonly<Record<string, string[]>>): string[] {
  const apps = Object.keys(rebuilds);
  if (apps.length === 0) return [];
  return ["Images:", ...apps.map((app) => `  ${rebuildLine(app, rebuilds[app]!)}`)];
}

/**
 * What a promotion changes per app: the target stack's current image against the source
 * stack's. Pure, shared by `npm run promote` and its tests.
 */
import type { AppOutput } from "../model/promotion";

/** One app's change. */
export interface PromotionRow {
  /** App name. */
  app: string;
  /** Version, SHA and digest the target runs now ("not deployed" when absent). */
  from: string;
  /** What it will run after the promotion. */
  to: string;
  /** Whether anything changes for this app. */
  changes: boolean;
}

function describe(app: Pick<AppOutput, "version" | "revision" | "digest"> | undefined): string {
  if (!app) return "not deployed";
  return [
    app.version ?? "unversioned",
    app.revision ? `sha-${app.revision.slice(0, 7)}` : undefined,
    app.digest.slice(0, 19),
  ]
    .filter(Boolean)
    .join(" · ");
}

/** Rows for every app the source stack exports, plus apps only the target still runs. */
export function promotionPlan(
  source: Readonly<Record<string, AppOutput>>,
  target: Readonly<Record<string, AppOutput>>,
): PromotionRow[] {
  const names = [...new Set([...Object.keys(source), ...Object.keys(target)])];
  return names.map((app) => {
    const from = target[app];
    const to = source[app];
    return {
      app,
      from: describe(from),
      to: to ? describe(to) : "removed (not in the source stack)",
      changes: from?.digest !== to?.digest,
    };
  });
}

/** Plain-text table of a plan. */
export function formatPlan(source: string, target: string, rows: readonly PromotionRow[]): string {
  const width = Math.max(...rows.map((r) => r.app.length), 3);
  const lines = [`Promotion ${source} -> ${target}:`];
  for (const row of rows) {
    lines.push(
      `  ${row.app.padEnd(width)}  ${row.changes ? `${row.from}  ->  ${row.to}` : `${row.to} (unchanged)`}`,
    );
  }
  return lines.join("\n");
}

/** The command that creates (or updates) a stack, by how it gets its images. */
export function creatingCommand(stack: string, mode: "build" | "promote"): string {
  return mode === "build" ? `npm run up -- ${stack} --yes` : `npm run promote -- ${stack}`;
}

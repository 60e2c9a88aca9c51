/**
 * What a promotion changes per app: the target stack's current image against the source
 * stack's. Pure, shared by `npm run promote` and its tests.
 */
import {
  promotedImage,
  type AppOutput,
  type PromotedImage,
  type PromotionPolicy,
} from "../model/promotion";

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

/** What a plan row says of an image. */
export type Described = Pick<AppOutput, "version" | "revision" | "digest">;

function describe(app: Described | undefined): string {
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
  source: Readonly<Record<string, Described>>,
  target: Readonly<Record<string, Described>>,
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

/** What a promotion would deploy per app, through the guards and gates, or why it refuses. */
export interface Choices {
  /** Per app: the digest, version and SHA the target would take. */
  chosen: Record<string, Described>;
  /** Per app: the promoted image, with the gates it passed. */
  promoted: Record<string, PromotedImage>;
  /** Per app the guards or gates refuse: why. */
  refusals: Record<string, string>;
}

/** Runs each app of the target through promotion as its `up` would (model/promotion.ts). */
export function promotionChoices(
  apps: readonly string[],
  sourceStack: string,
  sourceApps: Readonly<Record<string, AppOutput>>,
  policy: PromotionPolicy,
  now?: Date,
): Choices {
  const out: Choices = { chosen: {}, promoted: {}, refusals: {} };
  for (const app of apps) {
    try {
      const p = promotedImage(app, sourceStack, sourceApps, policy, now);
      out.promoted[app] = p;
      out.chosen[app] = {
        digest: p.digest,
        ...(p.version !== undefined ? { version: p.version } : {}),
        ...(p.revision !== undefined ? { revision: p.revision } : {}),
      };
    } catch (error) {
      out.refusals[app] = (error as Error).message;
    }
  }
  return out;
}

/** The gates' states per app, as `npm run promote` prints them before asking. */
export function formatGates(promoted: Readonly<Record<string, PromotedImage>>): string {
  const lines: string[] = [];
  for (const [app, p] of Object.entries(promoted)) {
    if (p.gates === undefined) continue;
    lines.push(`  ${app} ${p.digest.slice(0, 19)}:`);
    for (const s of p.gates.states)
      lines.push(`    ${s.ok ? "ok  " : "HELD"} ${s.gate}: ${s.detail}`);
    if (p.gates.brokeGlass !== undefined) {
      lines.push(`    break glass, on record: ${p.gates.brokeGlass}`);
    }
  }
  return lines.length > 0 ? `Gates:\n${lines.join("\n")}` : "";
}

/**
 * What the source recorded of each promoted digest's supply chain, as `npm run promote` prints
 * it before asking: signature, SBOM and the source's scan. The update verifies it again, and
 * scans with this stack's database and threshold, before it changes anything.
 */
export function formatSupplyChain(
  promoted: Readonly<Record<string, PromotedImage>>,
  sourceApps: Readonly<Record<string, AppOutput>>,
): string {
  const lines: string[] = [];
  for (const [app, p] of Object.entries(promoted)) {
    const source = sourceApps[app];
    const chain = source?.digest === p.digest ? source.supplyChain : undefined;
    if (chain === undefined) {
      lines.push(
        `  ${app} ${p.digest.slice(0, 19)}: nothing recorded by the source; the update verifies it`,
      );
      continue;
    }
    lines.push(`  ${app} ${p.digest.slice(0, 19)}:`);
    lines.push(`    ${chain.signed ? "ok  " : "NO  "} signed: key ${chain.signer.slice(0, 12)}`);
    lines.push(`    ok   SBOM: ${chain.sbom.format}, ${chain.sbom.packages} packages`);
    lines.push(
      `    ${chain.vulnerabilities === undefined ? "--  " : "info"} vulnerabilities: ` +
        (chain.vulnerabilities?.summary ?? "not scanned by the source"),
    );
  }
  return lines.length > 0 ? `Supply chain (as the source recorded it):\n${lines.join("\n")}` : "";
}

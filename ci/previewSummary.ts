/**
 * Turns `pulumi preview --json` output into a Markdown summary per stack for pull requests:
 * counts per operation, every changed resource, image changes (version, SHA, digest) and
 * replica and resource changes.
 *   npm run -s preview:summary -- dev=preview-dev.json staging=preview-staging.json
 */
import { readFileSync } from "node:fs";
import { rebuildLine } from "../model/rebuildReasons";

/** One step of `pulumi preview --json`. */
export interface PreviewStep {
  op: string;
  urn: string;
  type?: string;
  oldState?: { inputs?: Record<string, unknown>; outputs?: Record<string, unknown> };
  newState?: { inputs?: Record<string, unknown> };
  diffReasons?: string[];
}

/** `pulumi preview --json` output. */
export interface PreviewJson {
  steps?: PreviewStep[];
  changeSummary?: Record<string, number>;
  /** Per app that builds: why its image rebuilds (empty: it does not). */
  rebuilds?: Record<string, string[]>;
}

/** Pulumi's placeholder for a value not known until the update runs. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const REPLACE_OPS = new Set(["replace", "create-replacement", "delete-replaced"]);

function typeOf(step: PreviewStep): string {
  return step.type ?? step.urn.split("::")[2]?.split("$").pop() ?? "";
}
function nameOf(step: PreviewStep): string {
  return step.urn.split("::").pop() ?? step.urn;
}

interface Workload {
  image?: string;
  version?: string;
  revision?: string;
  replicas?: number;
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

function workload(inputs: Record<string, unknown> | undefined): Workload {
  const spec = (inputs?.["spec"] ?? {}) as {
    replicas?: number;
    template?: {
      metadata?: { annotations?: Record<string, string> };
      spec?: {
        containers?: {
          image?: string;
          resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
        }[];
      };
    };
  };
  const container = spec.template?.spec?.containers?.[0];
  const annotations = spec.template?.metadata?.annotations ?? {};
  return {
    ...(container?.image !== undefined ? { image: container.image } : {}),
    ...(annotations["pyfleet.dev/version"] ? { version: annotations["pyfleet.dev/version"] } : {}),
    ...(annotations["pyfleet.dev/revision"]
      ? { revision: annotations["pyfleet.dev/revision"] }
      : {}),
    ...(spec.replicas !== undefined ? { replicas: spec.replicas } : {}),
    ...(container?.resources?.requests ? { requests: container.resources.requests } : {}),
    ...(container?.resources?.limits ? { limits: container.resources.limits } : {}),
  };
}

function describeImage(w: Workload): string {
  if (w.image === undefined) return "—";
  if (w.image === UNKNOWN || w.image.includes(UNKNOWN)) {
    return [
      w.version,
      w.revision && `sha-${w.revision.slice(0, 7)}`,
      "new build (digest known after up)",
    ]
      .filter(Boolean)
      .join(" · ");
  }
  const digest = /@(sha256:[a-f0-9]{12})/.exec(w.image)?.[1];
  return [
    w.version,
    w.revision && `sha-${w.revision.slice(0, 7)}`,
    digest ? `\`${digest}\`` : `\`${w.image}\``,
  ]
    .filter(Boolean)
    .join(" · ");
}

function describeResources(w: Workload): string {
  const fmt = (r?: Record<string, string>) =>
    r
      ? Object.entries(r)
          .filter(([k]) => k !== "ephemeral-storage")
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")
      : "—";
  return `requests ${fmt(w.requests)}; limits ${fmt(w.limits)}`;
}

/** Markdown summary of one stack's preview. */
export function summarisePreview(stack: string, preview: PreviewJson): string {
  const steps = (preview.steps ?? []).filter((s) => !typeOf(s).startsWith("pulumi:pulumi:Stack"));
  const counts = { create: 0, update: 0, replace: 0, delete: 0, same: 0 };
  const changed: string[] = [];
  const seenReplace = new Set<string>();
  for (const step of steps) {
    let op = step.op;
    if (REPLACE_OPS.has(op)) {
      if (seenReplace.has(step.urn)) continue;
      seenReplace.add(step.urn);
      op = "replace";
    }
    if (
      op === "create" ||
      op === "update" ||
      op === "replace" ||
      op === "delete" ||
      op === "same"
    ) {
      counts[op] += 1;
    }
    if (op !== "same" && op !== "read") {
      const reasons = step.diffReasons?.length ? ` (${step.diffReasons.join(", ")})` : "";
      changed.push(`| ${op} | \`${typeOf(step)}\` | ${nameOf(step)}${reasons} |`);
    }
  }

  const lines = [
    `### pyfleet preview: \`${stack}\``,
    "",
    `${counts.create} to create, ${counts.update} to update, ${counts.replace} to replace, ` +
      `${counts.delete} to delete, ${counts.same} unchanged.`,
    "",
  ];
  if (changed.length > 0) {
    lines.push("| change | type | resource |", "|---|---|---|", ...changed, "");
  } else {
    lines.push("No changes.", "");
  }

  const rebuilds = Object.entries(preview.rebuilds ?? {});
  if (rebuilds.length > 0) {
    lines.push(
      "**Image builds**",
      "",
      ...rebuilds.map(([app, reasons]) => `- ${rebuildLine(app, reasons)}`),
      "",
    );
  }

  const images: string[] = [];
  const scale: string[] = [];
  for (const step of steps) {
    if (typeOf(step) !== "kubernetes:apps/v1:Deployment" || step.op === "same") continue;
    const before = workload(step.oldState?.inputs);
    const after = workload(step.op === "delete" ? undefined : step.newState?.inputs);
    const app = nameOf(step);
    if (before.image !== after.image) {
      images.push(`| ${app} | ${describeImage(before)} | ${describeImage(after)} |`);
    }
    if (step.op !== "create" && step.op !== "delete") {
      const oldRes = describeResources(before);
      const newRes = describeResources(after);
      if (before.replicas !== after.replicas || oldRes !== newRes) {
        const replicas =
          before.replicas === after.replicas
            ? String(after.replicas ?? "HPA")
            : `${before.replicas ?? "HPA"} → ${after.replicas ?? "HPA"}`;
        scale.push(
          `| ${app} | ${replicas} | ${oldRes === newRes ? newRes : `${oldRes} → ${newRes}`} |`,
        );
      }
    }
  }
  if (images.length > 0) {
    lines.push("**Images**", "", "| app | from | to |", "|---|---|---|", ...images, "");
  }
  if (scale.length > 0) {
    lines.push(
      "**Replicas and resources**",
      "",
      "| app | replicas | resources |",
      "|---|---|---|",
      ...scale,
      "",
    );
  }
  return lines.join("\n");
}

function main(argv: string[]): number {
  if (argv.length === 0) {
    process.stderr.write("usage: preview-summary <stack>=<preview.json> ...\n");
    return 2;
  }
  const parts: string[] = [];
  for (const arg of argv) {
    const [stack, file] = arg.split("=");
    if (!stack || !file) {
      process.stderr.write(`expected <stack>=<file>, got ${arg}\n`);
      return 2;
    }
    const text = readFileSync(file, "utf8");
    parts.push(summarisePreview(stack, JSON.parse(text.slice(text.indexOf("{"))) as PreviewJson));
  }
  process.stdout.write(`${parts.join("\n")}\n`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));

/** Checks of upgrading: state made by the previous version, updated by this tree. */
import { defineCheck, ensure } from "../lib/check";
import { tail, urnName, type CommandRun, type PlanStep } from "./observed";

/** Counts of an update by operation, as the engine records them (`same`, `update`, ...). */
export type ResourceChanges = Record<string, number>;

/** Operations that would take an existing resource away: a replacement, or a delete. */
export const DESTRUCTIVE_OPS = [
  "replace",
  "create-replacement",
  "delete-replaced",
  "delete",
  "discard",
  "discard-replaced",
  "import-replacement",
] as const;

/** The previous version's updates that made the state to upgrade. */
export interface PreviousObservation {
  /** The previous version's commit, or why it could not be checked out. */
  commit: { sha: string } | { error: string };
  /** Its update of each stack, in order. */
  runs: { stack: string; run: CommandRun }[];
}

/** The previous version was checked out and updated every stack. */
export const previousStateMade = defineCheck<PreviousObservation>("previous-state-made", (o) => {
  ensure(
    "sha" in o.commit,
    `no previous version to upgrade from: ${"error" in o.commit ? o.commit.error : ""}`,
  );
  ensure(o.runs.length > 0, "the previous version updated no stack");
  for (const { stack, run } of o.runs) {
    ensure(run.status === 0, `the previous version's up of ${stack} failed:\n${tail(run)}`);
  }
  return o.runs.map(({ stack, run }) => `${stack} ${run.seconds.toFixed(1)}s`).join(", ");
});

/** This tree's preview and update on the previous version's state. */
export interface UpgradeObservation {
  /** Resources in the stack's state before this tree touched it. */
  resourcesBefore: number;
  /** `preview --json` of this tree. */
  plan: CommandRun;
  /** Its steps. */
  steps: PlanStep[];
  /** The preview's change summary. */
  planned: ResourceChanges;
  /** `up` of this tree. */
  up: CommandRun;
  /** The update's change counts from the stack history; undefined when none was recorded. */
  performed: ResourceChanges | undefined;
}

function count(changes: ResourceChanges): string {
  const parts = Object.entries(changes)
    .filter(([, n]) => n > 0)
    .map(([op, n]) => `${n} ${op}`);
  return parts.join(", ") || "nothing";
}

/** No resource is replaced or deleted, neither in the plan nor in the update. */
export const upgradeReplacesNothing = defineCheck<UpgradeObservation>(
  "upgrade-replaces-nothing",
  (o) => {
    ensure(o.resourcesBefore > 0, "the previous version left no resources in the state to upgrade");
    ensure(o.plan.status === 0, `preview failed:\n${tail(o.plan)}`);
    ensure(o.steps.length > 0, "empty plan");
    const destructive = o.steps.filter((s) =>
      (DESTRUCTIVE_OPS as readonly string[]).includes(s.op),
    );
    ensure(
      destructive.length === 0,
      `the plan takes ${destructive.length} existing resources away: ` +
        destructive.map((s) => `${urnName(s.urn)} (${s.op}, ${s.urn})`).join("; ") +
        " — a renamed or re-parented resource needs an alias",
    );
    for (const op of DESTRUCTIVE_OPS) {
      ensure(
        (o.planned[op] ?? 0) === 0,
        `the plan counts ${o.planned[op]} ${op}: ${count(o.planned)}`,
      );
    }
    ensure(o.up.status === 0, `up failed:\n${tail(o.up)}`);
    ensure(o.performed, "the update left no entry in the stack history");
    for (const op of DESTRUCTIVE_OPS) {
      ensure(
        (o.performed[op] ?? 0) === 0,
        `the update performed ${o.performed[op]} ${op}: ${count(o.performed)}`,
      );
    }
    return `planned ${count(o.planned)}; performed ${count(o.performed)}; up ${o.up.seconds.toFixed(1)}s`;
  },
);

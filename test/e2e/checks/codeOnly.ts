/** Checks of a code-only change: one image changes, and its rebuild reuses the dependencies. */
import { defineCheck, ensure } from "../lib/check";
import { tail, urnName, type CommandRun, type PlanStep } from "./observed";

/** `preview --diff --json` after changing one app's code. */
export interface DiffObservation {
  /** The preview. */
  run: CommandRun;
  /** Its steps. */
  steps: PlanStep[];
  /** The image that must be the only one to change, e.g. `vectors-image`. */
  image: string;
}

/** Only the changed app's image is planned to change. */
export const onlyImageChanges = defineCheck<DiffObservation>("only-image-changes", (o) => {
  ensure(o.run.status === 0, `preview failed:\n${tail(o.run)}`);
  const images = o.steps.filter((s) => s.urn.includes("docker-build:index:Image"));
  const changed = images.filter((s) => s.op !== "same").map((s) => urnName(s.urn));
  ensure(
    changed.length === 1 && changed[0] === o.image,
    `changed images: ${changed.join(", ") || "none"}`,
  );
  return images.map((s) => `${urnName(s.urn)}:${s.op}`).join(" ");
});

/** The update after the change, and both images' layers. */
export interface RebuildObservation {
  /** The update. */
  run: CommandRun;
  /** Seconds of the cold update, for the report. */
  coldSeconds: number;
  /** Digests of the changed app before and after. */
  changed: { before: string | undefined; after: string | undefined };
  /** Digests of an unchanged app before and after. */
  unchanged: { before: string | undefined; after: string | undefined };
  /** Layer digests of the changed app's image before and after. */
  layers: { before: string[]; after: string[] };
}

/** Every layer but the code layer is reused, and the other app's image is untouched. */
export const dependencyLayersReused = defineCheck<RebuildObservation>(
  "dependency-layers-reused",
  (o) => {
    ensure(o.run.status === 0, `up failed:\n${tail(o.run)}`);
    ensure(o.changed.after !== o.changed.before, "the changed app's digest did not change");
    const { before, after } = o.layers;
    const reused = after.filter((layer, i) => before[i] === layer).length;
    ensure(
      after.length > 1 && reused === after.length - 1,
      `reused ${reused} of ${after.length} layers`,
    );
    ensure(
      o.unchanged.after !== undefined && o.unchanged.after === o.unchanged.before,
      `the unchanged app's image changed too (${o.unchanged.before} -> ${o.unchanged.after})`,
    );
    return `${reused}/${after.length} layers reused; up ${o.run.seconds.toFixed(1)}s (cold up ${o.coldSeconds.toFixed(1)}s)`;
  },
);

/** Checks of what a stack's state holds: unchanged by a refused preview, empty after destroy. */
import { defineCheck, ensure } from "../lib/check";
import { tail, type CommandRun } from "./observed";

/** A preview with bad settings and the state around it. */
export interface RefusedObservation {
  /** The preview. */
  run: CommandRun;
  /** The settings error it must print. */
  error: string;
  /** `pulumi stack export` before and after. */
  stateBefore: string;
  /** See `stateBefore`. */
  stateAfter: string;
}

/** The preview failed with the settings error and the state did not change. */
export const badConfigRefused = defineCheck<RefusedObservation>("bad-config-refused", (o) => {
  ensure(o.run.status !== 0, "preview succeeded with bad settings");
  ensure(o.run.output.includes(o.error), `no settings error:\n${tail(o.run, 2000)}`);
  ensure(o.stateBefore.length > 0, "no state was exported before the preview");
  ensure(o.stateBefore === o.stateAfter, "the stack state changed");
});

/** A destroy and the state after it. */
export interface DestroyObservation {
  /** The destroy. */
  run: CommandRun;
  /** `pulumi stack export` after it. */
  state: string;
}

/** The destroy succeeded and left no resource in the state. */
export const stateEmptied = defineCheck<DestroyObservation>("state-emptied", (o) => {
  ensure(o.run.status === 0, `destroy failed:\n${tail(o.run)}`);
  let resources: unknown[];
  try {
    const doc = JSON.parse(o.state) as { deployment?: { resources?: unknown[] } };
    resources = doc.deployment?.resources ?? [];
  } catch {
    throw new Error(`the state export is not JSON: ${o.state.slice(0, 200) || "(empty)"}`);
  }
  ensure(resources.length === 0, `${resources.length} resources remain in the state`);
});

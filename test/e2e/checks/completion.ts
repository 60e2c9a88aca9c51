/** The harness's own check: a scenario that throws ends the run with this failure. */
import { defineCheck } from "../lib/check";

/** A scenario and what it threw, if anything. */
export interface CompletionObservation {
  /** The scenario's name. */
  scenario: string;
  /** What it threw; undefined when it ran to its end. */
  error: unknown;
}

/** The scenario ran to its end. */
export const scenarioCompleted = defineCheck<CompletionObservation>("scenario-completed", (o) => {
  if (o.error === undefined) return;
  const reason =
    o.error instanceof Error ? (o.error.stack ?? o.error.message) : JSON.stringify(o.error);
  throw new Error(`scenario "${o.scenario}" threw: ${reason}`);
});

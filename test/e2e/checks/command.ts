/** The one check every scenario shares: a command that must succeed did. */
import { defineCheck, ensure } from "../lib/check";
import { tail, type CommandRun } from "./observed";

/** A command run and what it was for (`up`, `destroy`, ...), for the failure message. */
export interface CommandObservation {
  /** What the command does, e.g. "up of dev". */
  what: string;
  /** The run. */
  run: CommandRun;
}

/** The command exited 0. */
export const commandSucceeds = defineCheck<CommandObservation>("command-succeeds", (o) => {
  ensure(o.run.status === 0, `${o.what} failed (exit ${o.run.status}):\n${tail(o.run, 4000)}`);
  return `${o.run.seconds.toFixed(1)}s`;
});

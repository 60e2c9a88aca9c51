/** Checks of the CrossGuard policy pack on real previews. */
import { defineCheck, ensure } from "../lib/check";
import { tail, type CommandRun } from "./observed";

/** A preview with the policy pack. */
export interface PolicyObservation {
  /** The preview. */
  run: CommandRun;
}

/** The preview passed and the pack ran. */
export const policyPasses = defineCheck<PolicyObservation>("policy-passes", (o) => {
  ensure(o.run.status === 0, `preview failed:\n${tail(o.run)}`);
  ensure(
    /pyfleet/.test(o.run.output) && /Polic/i.test(o.run.output),
    "no policy pack in the output",
  );
});

/** A mandatory-pack preview of a loosened stack. */
export interface ViolationObservation {
  /** The preview. */
  run: CommandRun;
  /** The public host without TLS that the violation must name. */
  host: string;
}

/** The preview failed on a mandatory violation naming the host. */
export const policyViolated = defineCheck<ViolationObservation>("policy-violated", (o) => {
  ensure(o.run.status !== 0, "preview succeeded");
  const line = o.run.output.split("\n").find((l) => l.includes(o.host));
  ensure(/mandatory/.test(o.run.output) && line, `no violation:\n${tail(o.run)}`);
  return line.trim().slice(0, 160);
});

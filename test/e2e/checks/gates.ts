/**
 * Checks of the promotion gates on the cluster: staging verifies each rollout through its
 * Ingress and records it in its run history; prod refuses, before changing anything, what has
 * not soaked or verified on staging, and takes it once it has; a failed verification
 * un-verifies a digest.
 */
import { defineCheck, ensure } from "../lib/check";
import { tail, type AppOut, type CommandRun } from "./observed";

/** A stage's outputs against the digests it should run. */
export interface VerifiedStageObservation {
  stack: string;
  /** The stage's `apps` output. */
  apps: Record<string, AppOut>;
  /** The digest each app should run there (dev's). */
  digests: Record<string, string | undefined>;
}

/** Every app's newest history record is the digest it runs, verified. */
export const stageVerified = defineCheck<VerifiedStageObservation>("stage-verified", (o) => {
  const names = Object.keys(o.digests);
  ensure(names.length > 0, "no app to judge");
  for (const app of names) {
    const head = o.apps[app]?.history?.[0];
    ensure(head, `${o.stack} records no history of ${app}`);
    ensure(head.digest === o.digests[app], `${app}: history starts at ${head.digest}`);
    ensure(head.until === undefined, `${app}: its running digest is closed (${head.until})`);
    ensure(head.verification, `${app}: ${head.digest.slice(0, 19)} has no verification`);
    ensure(
      head.verification.passed,
      `${app}: verification failed: ${head.verification.failures.join("; ")}`,
    );
  }
  return `${names.join(", ")} verified on ${o.stack}`;
});

/** An `up` a gate refuses, and what the stage runs before and after it. */
export interface GateRefusalObservation {
  run: CommandRun;
  /** The gate's words the refusal must carry (`ran 20s of the 45s soak on staging`). */
  expected: RegExp;
  /** The digest held back, which the refusal must name. */
  digest: string;
  /** What the stage's Deployments ran before the `up`, and after. */
  before: Record<string, string>;
  after: Record<string, string>;
}

/** The `up` failed on the gate, naming it, and changed no Deployment. */
export const gateRefuses = defineCheck<GateRefusalObservation>("gate-refuses", (o) => {
  ensure(o.run.status !== 0, "up succeeded although a gate holds the digest back");
  ensure(
    /refused; nothing was changed/.test(o.run.output),
    `the output does not say the promotion was refused before any change: ${tail(o.run, 800)}`,
  );
  ensure(o.expected.test(o.run.output), `the output lacks ${o.expected}: ${tail(o.run, 800)}`);
  ensure(
    o.digest !== "" && o.run.output.includes(o.digest.slice(0, 19)),
    `the refusal does not name ${o.digest.slice(0, 19) || "the digest"}: ${tail(o.run, 800)}`,
  );
  ensure(Object.keys(o.before).length > 0, "no Deployment observed before the up");
  ensure(
    JSON.stringify(o.before) === JSON.stringify(o.after),
    `the Deployments changed: ${JSON.stringify(o.before)} -> ${JSON.stringify(o.after)}`,
  );
  return `refused in ${o.run.seconds.toFixed(1)}s, nothing changed`;
});

/** A gated `up` that should land, and the stage's outputs after it. */
export interface GatedLandingObservation {
  run: CommandRun;
  apps: Record<string, AppOut>;
  /** The digest each app should run now. */
  digests: Record<string, string | undefined>;
  /** Gates each app's outputs must show as passed. */
  gates: string[];
}

/** The `up` succeeded and recorded, per app, every gate it passed, none broken through. */
export const gatedPromotionLands = defineCheck<GatedLandingObservation>(
  "gated-promotion-lands",
  (o) => {
    ensure(o.run.status === 0, `up failed:\n${tail(o.run)}`);
    for (const [app, digest] of Object.entries(o.digests)) {
      const out = o.apps[app];
      ensure(out && out.digest === digest, `${app} runs ${out?.digest}, expected ${digest}`);
      const states = out.gates?.states ?? [];
      for (const gate of o.gates) {
        const state = states.find((s) => s.gate === gate);
        ensure(state?.ok === true, `${app}: gate ${gate} not recorded as passed`);
      }
      ensure(out.gates?.brokeGlass === undefined, `${app}: glass was broken`);
    }
    return `landed after ${o.run.seconds.toFixed(1)}s, ${o.gates.join(" and ")} on record`;
  },
);

/** An `up` whose verification fails, and the stage's history after it. */
export interface FailedVerificationObservation {
  run: CommandRun;
  app: string;
  apps: Record<string, AppOut>;
}

/** The `up` failed on the verification, and the history records the digest as not verified. */
export const verificationFailsUp = defineCheck<FailedVerificationObservation>(
  "verification-fails-up",
  (o) => {
    ensure(o.run.status !== 0, "up succeeded although the verification failed");
    ensure(
      new RegExp(`${o.app}: verification of the rollout failed: GET \\S+`).test(o.run.output),
      `the output does not name ${o.app}'s failed check: ${tail(o.run, 800)}`,
    );
    const head = o.apps[o.app]?.history?.[0];
    ensure(head?.verification, `no verification recorded for ${o.app}`);
    ensure(!head.verification.passed, `${o.app} still recorded as verified`);
    return `failed after ${o.run.seconds.toFixed(1)}s; ${head.digest.slice(0, 19)} un-verified`;
  },
);

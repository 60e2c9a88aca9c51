/** Checks of promotion: staging and prod deploy dev's digests, never build, and are guarded. */
import { defineCheck, ensure } from "../lib/check";
import { tail, type AppOut, type CommandRun, type ManifestFile, type PlanStep } from "./observed";

/** A promoting stack's plan and update. */
export interface PromoteObservation {
  /** `preview --json`. */
  plan: CommandRun;
  /** The plan's steps. */
  steps: PlanStep[];
  /** `up`. */
  promote: CommandRun;
}

/** The plan holds no image build and the update succeeded. */
export const promotesWithoutBuild = defineCheck<PromoteObservation>(
  "promotes-without-build",
  (o) => {
    ensure(o.plan.status === 0, `preview failed:\n${tail(o.plan)}`);
    ensure(o.steps.length > 0, "empty plan");
    const builds = o.steps.filter((s) => s.urn.includes("docker-build:index:Image"));
    ensure(builds.length === 0, `an Image is in the plan: ${builds.map((s) => s.urn).join(", ")}`);
    ensure(o.promote.status === 0, `up failed:\n${tail(o.promote)}`);
    return `up ${o.promote.seconds.toFixed(1)}s`;
  },
);

/** One app of a promoting stack against its source. */
export interface PromotedAppObservation {
  /** The promoting stack. */
  stack: string;
  /** The app in dev's outputs. */
  source: AppOut | undefined;
  /** The app in the promoting stack's outputs. */
  out: AppOut | undefined;
  /** What `:<stack>` resolves to in the registry. */
  environmentDigest: string | undefined;
  /** What `:<version>` resolves to in the registry. */
  versionDigest: string | undefined;
  /** The promoting stack's rendered manifests. */
  files: ManifestFile[];
}

/** The stack runs dev's digest, and its environment and version tags name it. */
export const promotedDigest = defineCheck<PromotedAppObservation>("promoted-digest", (o) => {
  const { source, out } = o;
  ensure(source && out, "missing outputs");
  ensure(out.digest === source.digest, `${o.stack} runs ${out.digest}, dev ${source.digest}`);
  ensure(o.environmentDigest === source.digest, `:${o.stack} -> ${o.environmentDigest}`);
  ensure(o.versionDigest === source.digest, `:${source.version} -> ${o.versionDigest}`);
  ensure(
    o.files.some((f) => f.text.includes(`image: ${source.image}`)),
    "rendered manifests do not pin dev's digest",
  );
  return source.digest.slice(0, 19);
});

/** A prod preview pinned to a digest staging does not run. */
export interface GuardObservation {
  /** The preview. */
  run: CommandRun;
  /** The digest staging runs, which the error must name. */
  stagingDigest: string | undefined;
}

/** The preview failed with the promotion guard's error. */
export const promotionGuarded = defineCheck<GuardObservation>("promotion-guarded", (o) => {
  ensure(o.run.status !== 0, "preview succeeded");
  ensure(o.stagingDigest, "no digest of staging to compare with");
  ensure(
    o.run.output.includes(`is not the digest staging runs now (${o.stagingDigest})`),
    `no guard error:\n${tail(o.run, 2000)}`,
  );
});

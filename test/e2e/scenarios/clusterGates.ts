/**
 * The promotion gates on the cluster, right after the first promotion. Staging verified each
 * rollout through its Ingress. Then dev builds a new vectors and staging moves on to it: prod,
 * asked for a soak that only the older digest has served, takes that older one; pinned to the
 * new one, it refuses and changes nothing; once the new one has soaked, it takes it. A
 * verification that fails on staging fails the `up` and un-verifies the digest, which prod
 * then refuses; fixed, staging verifies it again. The soak is shortened to fit the test.
 */
import { appendFileSync } from "node:fs";
import * as path from "node:path";
import { formatDuration } from "../../../policy/vocabulary";
import {
  gateRefuses,
  gatedPromotionLands,
  stageVerified,
  verificationFailsUp,
  type AppOut,
} from "../checks";
import type { Context, Scenario } from "../lib/context";
import { deploymentOf, field, kubeOf } from "./cluster";

const CHANGED = "vectors";
/** The longest the scenario waits for a soak to pass. */
const MAX_WAIT_SECONDS = 90;

/** The image each app's Deployment in `stack` runs. */
async function imagesOf(ctx: Context, stack: "staging" | "prod"): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const app of ctx.apps) {
    const d = await deploymentOf(kubeOf(ctx), stack, app);
    out[app] = field<string>(d, "spec", "template", "spec", "containers", 0, "image") ?? "none";
  }
  return out;
}

function digestsOf(apps: Record<string, AppOut>, names: readonly string[]) {
  return Object.fromEntries(names.map((a) => [a, apps[a]?.digest]));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export const clusterGates: Scenario = {
  name: "cluster gates",
  async run(ctx) {
    const { pulumi, recorder } = ctx;
    const stagingConfig = ctx.promoteConfig("staging");
    const staging = await pulumi.apps("staging", stagingConfig);
    recorder.check(stageVerified, "cluster staging: every rollout verified through its Ingress", {
      stack: "staging",
      apps: staging,
      digests: digestsOf(ctx.facts.devApps, ctx.apps),
    });

    // dev builds a new vectors, and staging moves on to it.
    appendFileSync(
      path.join(ctx.project, "apps", CHANGED, CHANGED, "main.py"),
      "\n# e2e: a newer build for the gates\n",
    );
    const rebuilt = await pulumi.up("cluster up dev, newer vectors", "dev", ctx.config.dev);
    const dev = rebuilt.status === 0 ? await pulumi.apps("dev", ctx.config.dev) : {};
    if (dev[CHANGED] !== undefined) ctx.facts.devApps = dev;
    const older = staging[CHANGED]?.digest ?? "";
    const newer = dev[CHANGED]?.digest ?? "";
    const moved = await pulumi.up("cluster up staging, newer vectors", "staging", stagingConfig);
    const stagingNow = moved.status === 0 ? await pulumi.apps("staging", stagingConfig) : {};
    recorder.check(stageVerified, "cluster staging: the newer vectors is verified too", {
      stack: "staging",
      apps: stagingNow,
      digests: digestsOf(dev, ctx.apps),
    });

    // A soak only the older digest has served: it ran from its promotion until now.
    const history = stagingNow[CHANGED]?.history ?? [];
    const olderRecord = history.find((r) => r.digest === older);
    const servedMs =
      olderRecord?.until !== undefined
        ? Date.parse(olderRecord.until) - Date.parse(olderRecord.since)
        : 0;
    const soakSeconds = Math.max(10, Math.min(MAX_WAIT_SECONDS, Math.floor(servedMs / 1000) - 1));
    const soak = formatDuration(soakSeconds * 1000);
    recorder.figure("cluster_gate_soak_seconds", soakSeconds);
    const gates = { soak, requireVerified: true };
    const gated = ctx.promoteConfig("prod", { "pyfleet:images": gates });
    const takesOlder = await pulumi.up("cluster up prod, soaked only", "prod", gated);
    const prodOlder = takesOlder.status === 0 ? await pulumi.apps("prod", gated) : {};
    recorder.check(
      gatedPromotionLands,
      `cluster prod: with a ${soak} soak, takes the older vectors that soaked, though staging moved on`,
      {
        run: takesOlder,
        apps: prodOlder,
        digests: { ...digestsOf(stagingNow, ctx.apps), [CHANGED]: older },
        gates: ["soaked", "verified"],
      },
    );

    // Pinned to the newer digest before it soaked: refused, nothing changes.
    const pinned = ctx.promoteConfig("prod", {
      "pyfleet:images": { ...gates, pins: { [CHANGED]: `${dev[CHANGED]?.repository}@${newer}` } },
    });
    const before = await imagesOf(ctx, "prod");
    const refused = await pulumi.up("cluster up prod, unsoaked pin", "prod", pinned);
    recorder.check(gateRefuses, "cluster prod: refuses the newer vectors before it soaked", {
      run: refused,
      expected: new RegExp(`ran \\w+ of the ${soak} soak on staging`),
      digest: newer,
      before,
      after: await imagesOf(ctx, "prod"),
    });

    // Once it has soaked, the same pin lands.
    const newerSince = history.find((r) => r.digest === newer)?.since;
    const soakedAt = (newerSince ? Date.parse(newerSince) : Date.now()) + soakSeconds * 1000;
    await sleep(Math.min(soakedAt + 2000 - Date.now(), (MAX_WAIT_SECONDS + 5) * 1000));
    const landed = await pulumi.up("cluster up prod, soaked pin", "prod", pinned);
    recorder.check(gatedPromotionLands, "cluster prod: takes the newer vectors once it soaked", {
      run: landed,
      apps: landed.status === 0 ? await pulumi.apps("prod", pinned) : {},
      digests: { [CHANGED]: newer },
      gates: ["soaked", "verified"],
    });

    // A verification that fails un-verifies the digest; prod refuses it; fixed, it verifies.
    const failing = ctx.promoteConfig("staging", {
      "pyfleet:apps": { [CHANGED]: { health: { smokePath: "/no-such-path" } } },
    });
    const failed = await pulumi.up("cluster up staging, failing verification", "staging", failing);
    recorder.check(
      verificationFailsUp,
      "cluster staging: a failed verification fails the up and un-verifies the digest",
      { run: failed, app: CHANGED, apps: await pulumi.apps("staging", failing) },
    );
    const beforeUnverified = await imagesOf(ctx, "prod");
    const unverified = await pulumi.up("cluster up prod, unverified pin", "prod", pinned);
    recorder.check(gateRefuses, "cluster prod: refuses a digest whose verification failed", {
      run: unverified,
      expected: /verification on staging failed at \S+: GET \S+\/no-such-path/,
      digest: newer,
      before: beforeUnverified,
      after: await imagesOf(ctx, "prod"),
    });
    const fixed = await pulumi.up(
      "cluster up staging, verification restored",
      "staging",
      stagingConfig,
    );
    recorder.check(stageVerified, "cluster staging: verified again once its checks pass", {
      stack: "staging",
      apps: fixed.status === 0 ? await pulumi.apps("staging", stagingConfig) : {},
      digests: digestsOf(dev, ctx.apps),
    });
  },
};

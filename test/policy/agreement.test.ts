/**
 * Settings, model, components and the policy pack agree on every shared rule. No rule is
 * restated here: the examples come from the vocabulary (its patterns, its numbers, its
 * functions' boundaries) and from fast-check, each is pushed through the settings (and the
 * model or component that turns settings into objects) and, separately, through the pack as
 * the engine would run it, and the two verdicts must be equal. Were a rule copied and then
 * changed on one side only, the examples at its boundary would split the verdicts.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { AppNamespace as AppNamespaceType } from "../../components/appNamespace";
import type { PythonImage as PythonImageType } from "../../components/pythonImage";
import { computeTags } from "../../model/tags";
import { labelValueError } from "../../policy/vocabulary/names";
import { deploymentSpec, hpaSpec } from "../../model/workload";
import { policies } from "../../policy/policies";
import {
  CPU_SUFFIXES,
  DIGEST_REF_PATTERN,
  ENVIRONMENTS,
  HPA_MIN_REPLICAS,
  MUTABLE_TAG,
  QUANTITY_SUFFIXES,
  SECRET_NAME_PATTERN,
  SYSTEM_NAMESPACES,
  TAG_PATTERN,
  minimumReplicas,
  type Environment,
} from "../../policy/vocabulary";
import { SettingsError } from "../../stacks/problems";
import { awaitTimeoutSeconds, resolveSettings } from "../../stacks/settings";
import type { AppSettings, RolloutSettings, Settings } from "../../stacks/types";
import { evaluate, type EngineResource } from "../support/evaluate";
import { installMocks } from "../support/mocks";
import { sources } from "../support/sources";

const APP = "vectors";
const NAMESPACE = "pyfleet-dev";
const DIGEST_IMAGE = `localhost:5000/pyfleet/${APP}@sha256:${"0".repeat(64)}`;
const RUNS = { numRuns: 60 };

let PythonImage: typeof PythonImageType;
let AppNamespace: typeof AppNamespaceType;

beforeAll(async () => {
  await installMocks({ stack: "dev", config: {} });
  ({ PythonImage } = await import("../../components/pythonImage"));
  ({ AppNamespace } = await import("../../components/appNamespace"));
});

/** The settings problems for `config` on `stack` (empty when the settings are accepted). */
function settingsProblems(config: Record<string, unknown>, stack = "dev"): readonly string[] {
  try {
    resolveSettings(sources({ stack, config }));
    return [];
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    return error.problems;
  }
}

/** Whether settings report a problem at `key` or below it (a key path as problems name it). */
function settingsRefuse(problems: readonly string[], key: string): boolean {
  return problems.some((p) =>
    [`${key}:`, `${key}.`].some(
      (prefix) => p.startsWith(prefix) || p.startsWith(`pyfleet:${prefix}`),
    ),
  );
}

const base: Settings = resolveSettings(sources());
const baseApp: AppSettings = base.apps.find((a) => a.name === APP)!;

/** The Deployment the model builds for `app`, as the engine hands it to the pack. */
function deployment(app: AppSettings, environment: Environment, rollout: RolloutSettings) {
  const spec = deploymentSpec(app, environment, rollout, {
    image: DIGEST_IMAGE,
    serviceAccountName: app.name,
  });
  const seconds = awaitTimeoutSeconds({ rollout });
  return resource("kubernetes:apps/v1:Deployment", app.name, { spec }, seconds);
}

function resource(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  timeoutSeconds = 0,
): EngineResource {
  const metadata = { name, namespace: NAMESPACE, ...(inputs["metadata"] as object) };
  return {
    type,
    name,
    inputs: { ...inputs, metadata },
    customTimeouts: { createSeconds: timeoutSeconds, updateSeconds: timeoutSeconds },
  };
}

/** The names of the policies the pack reports against `resources`. */
async function packViolations(resources: EngineResource[]): Promise<Set<string>> {
  const result = await evaluate(policies, resources);
  return new Set(result.violations.map((v) => v.policy));
}

/**
 * Names around the secret pattern: its own matches (fast-check cannot generate from a
 * case-insensitive pattern, so from its source, then upper-cased at random) and plain
 * identifiers, as env var names.
 */
const envVarNames = fc
  .oneof(
    fc
      .tuple(fc.stringMatching(new RegExp(SECRET_NAME_PATTERN.source)), fc.boolean())
      .map(([name, upper]) => (upper ? name.toUpperCase() : name)),
    fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/),
  )
  .map((raw) => raw.replace(/[^A-Za-z0-9_]/g, "_").replace(/^(?=[0-9]|$)/, "_"));

describe("secret-looking names (C7, P2/D11)", () => {
  it("settings refuse exactly the config keys the pack reports in a ConfigMap", async () => {
    await fc.assert(
      fc.asyncProperty(envVarNames, async (key) => {
        const problems = settingsProblems({ apps: { [APP]: { config: { [key]: "value" } } } });
        const refused = settingsRefuse(problems, `apps.${APP}.config.${key}`);
        const configMap = resource("kubernetes:core/v1:ConfigMap", APP, { data: { [key]: "v" } });
        const reported = (await packViolations([configMap])).has("configmap-secret-keys");
        expect(refused).toBe(reported);
      }),
      RUNS,
    );
  });

  it("the image component refuses exactly the build arguments the pack reports", async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(envVarNames, async (key) => {
        // No tags: the component checks build arguments first and then stops at the missing
        // tag, so nothing is built and the error says which check refused.
        let refused = false;
        try {
          new PythonImage(`img-${n++}`, {
            context: ".",
            dockerfile: "FROM scratch",
            repository: "r/app",
            tags: [],
            buildArgs: { [key]: "x" },
          });
        } catch (error) {
          refused = !(error as Error).message.includes("needs at least one tag");
        }
        const image = resource("docker-build:index:Image", "img", { buildArgs: { [key]: "x" } });
        const reported = (await packViolations([image])).has("image-build-args");
        expect(refused).toBe(reported);
      }),
      RUNS,
    );
  });
});

const MANTISSAS = ["0", "0.5", "1", "1.5", "2", "250", "500", "512", "1000", "1024", "2048"];

/** Quantities from the vocabulary's suffixes, with mantissas whose values collide across them. */
const quantities = fc
  .tuple(
    fc.constantFrom(...MANTISSAS),
    fc.oneof(
      fc.constantFrom(...QUANTITY_SUFFIXES),
      fc.integer({ min: -3, max: 9 }).map((e) => `e${e}`),
    ),
  )
  .map(([mantissa, suffix]) => `${mantissa}${suffix}`);

/** Mostly quantities of the CPU suffixes settings accept, some of any other suffix. */
const cpuQuantities = fc.oneof(
  {
    arbitrary: fc
      .tuple(fc.constantFrom(...MANTISSAS), fc.constantFrom(...CPU_SUFFIXES))
      .map(([mantissa, suffix]) => `${mantissa}${suffix}`),
    weight: 5,
  },
  { arbitrary: quantities, weight: 1 },
);

describe("quantities (K11)", () => {
  for (const [resourceName, arbitrary] of [
    ["memory", quantities],
    ["cpu", cpuQuantities],
  ] as const) {
    it(`settings refuse a ${resourceName} limit below its request exactly when the pack does`, async () => {
      await fc.assert(
        fc.asyncProperty(arbitrary, arbitrary, async (request, limit) => {
          const resources = {
            requests: { [resourceName]: request },
            limits: { [resourceName]: limit },
          };
          const problems = settingsProblems({ apps: { [APP]: { resources } } });
          const where = `apps.${APP}.resources`;
          // A quantity settings refuse by grammar never reaches the model; the pack leaves
          // grammar to the schema check (K27), so only accepted quantities are compared.
          fc.pre(!problems.some((p) => p.startsWith(`pyfleet:${where}.`)));
          const refused = problems.some((p) => p.startsWith(`${where}.limits.${resourceName}:`));
          const app: AppSettings = {
            ...baseApp,
            resources: {
              requests: { ...baseApp.resources.requests, [resourceName]: request },
              limits: { ...baseApp.resources.limits, [resourceName]: limit },
            },
          };
          const violations = await evaluate(policies, [deployment(app, "dev", base.rollout)]);
          const reported = violations.violations.some(
            (v) =>
              v.policy === "pod-resources" &&
              v.message.includes(`resources.limits.${resourceName}`),
          );
          expect(refused).toBe(reported);
        }),
        { numRuns: 120 },
      );
    });
  }
});

describe("replicas outside dev (K17) and HPA minimum (C6)", () => {
  /** Replica counts around an environment's minimum, from the vocabulary's own function. */
  const around = (n: number) => [n - 1, n, n + 1].filter((r) => r >= 0);

  for (const environment of ENVIRONMENTS) {
    it(`${environment}: settings refuse exactly the replica counts the pack reports`, async () => {
      for (const replicas of around(minimumReplicas(environment)).concat(0, 1)) {
        const override = { replicas, autoscaling: { enabled: false } };
        const problems = settingsProblems({ apps: { [APP]: override } }, environment);
        const refused = settingsRefuse(problems, `apps.${APP}.replicas`);
        const app: AppSettings = {
          ...baseApp,
          replicas,
          autoscaling: { ...baseApp.autoscaling, enabled: false },
        };
        const reported = (await packViolations([deployment(app, environment, base.rollout)])).has(
          "workload-replicas",
        );
        expect({ replicas, refused }).toEqual({ replicas, refused: reported });
      }
    });

    it(`${environment}: settings refuse exactly the HPA minimums the pack reports`, async () => {
      for (const minReplicas of around(HPA_MIN_REPLICAS).filter((m) => m >= 1)) {
        const autoscaling = { enabled: true, minReplicas, maxReplicas: minReplicas + 2 };
        const problems = settingsProblems({ apps: { [APP]: { autoscaling } } }, environment);
        const refused = settingsRefuse(problems, `apps.${APP}.autoscaling.minReplicas`);
        const app: AppSettings = {
          ...baseApp,
          autoscaling: { ...baseApp.autoscaling, ...autoscaling },
        };
        const hpa = resource("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", APP, {
          spec: hpaSpec(app, APP),
        });
        const violations = await packViolations([deployment(app, environment, base.rollout), hpa]);
        expect({ minReplicas, refused }).toEqual({
          minReplicas,
          refused: violations.has("hpa-min-replicas"),
        });
        // An autoscaled Deployment leaves spec.replicas to its HPA; the pack must accept that.
        expect(violations.has("workload-replicas-autoscaled")).toBe(false);
      }
    });
  }
});

describe("rollout timing (K19, K25)", () => {
  it("settings refuse exactly the minReadySeconds/progressDeadlineSeconds the pack reports", async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(6), fc.nat(6), async (minReadySeconds, progressDeadlineSeconds) => {
        const rollout = { minReadySeconds, progressDeadlineSeconds, drainSeconds: 0 };
        const problems = settingsProblems({ rollout });
        const refused =
          settingsRefuse(problems, "rollout.minReadySeconds") ||
          settingsRefuse(problems, "rollout.progressDeadlineSeconds");
        const violations = await packViolations([deployment(baseApp, "dev", rollout)]);
        const reported =
          violations.has("workload-rollout-timing") || violations.has("workload-await-timeouts");
        expect(refused).toBe(reported);
        expect(violations.has("workload-graceful-shutdown")).toBe(false);
      }),
      RUNS,
    );
  });
});

describe("tags and digests (K12)", () => {
  const tagLike = fc.oneof(
    fc.stringMatching(TAG_PATTERN),
    fc.constant(MUTABLE_TAG),
    fc.string({ maxLength: 12 }),
  );

  // A version is used as a tag and as a label value, so settings refuse what either refuses.
  it("settings refuse exactly the versions tag computation or the label grammar refuses", () => {
    fc.assert(
      fc.property(tagLike, (version) => {
        const problems = settingsProblems({
          apps: { [APP]: { version: { from: "setting", value: version } } },
        });
        const refused = settingsRefuse(problems, `apps.${APP}.version`);
        let thrown = false;
        try {
          computeTags({ ...base.tags, app: APP, repository: "r/app", environment: "dev", version });
        } catch {
          thrown = true;
        }
        expect(refused).toBe(thrown || labelValueError(version) !== undefined);
      }),
      RUNS,
    );
  });

  it("settings accept exactly the pinned images the pack accepts", async () => {
    const pinned = fc.oneof(
      fc.stringMatching(DIGEST_REF_PATTERN),
      fc
        .tuple(fc.stringMatching(DIGEST_REF_PATTERN), tagLike)
        .map(([ref, tag]) => ref.replace("@", `:${tag}@`)),
      fc
        .tuple(fc.stringMatching(DIGEST_REF_PATTERN), fc.nat(63))
        .map(([ref, cut]) => ref.slice(0, ref.length - cut)),
    );
    await fc.assert(
      fc.asyncProperty(pinned, async (image) => {
        const config = { images: { mode: "promote", fromStack: "dev", pins: { [APP]: image } } };
        const refused = settingsRefuse(settingsProblems(config, "staging"), `images.pins.${APP}`);
        const spec = deploymentSpec(baseApp, "staging", base.rollout, {
          image,
          serviceAccountName: APP,
        });
        const pod = resource("kubernetes:apps/v1:Deployment", APP, { spec });
        const reported = (await packViolations([pod])).has("image-digest");
        expect({ image, refused }).toEqual({ image, refused: reported });
      }),
      RUNS,
    );
  });
});

describe("system namespaces (K26)", () => {
  it("the namespace component refuses exactly the namespaces the pack reports", async () => {
    let n = 0;
    const names = fc.oneof(
      fc.constantFrom(...SYSTEM_NAMESPACES),
      fc.stringMatching(/^[a-z][a-z0-9-]{0,12}[a-z0-9]$/),
    );
    await fc.assert(
      fc.asyncProperty(names, async (name) => {
        let refused = false;
        try {
          new AppNamespace(`ns-${n++}`, { name, environment: "dev" });
        } catch {
          refused = true;
        }
        const configMap: EngineResource = {
          type: "kubernetes:core/v1:ConfigMap",
          name: "cm",
          inputs: { metadata: { name: "cm", namespace: name }, data: {} },
        };
        const reported = (await packViolations([configMap])).has("namespace-not-system");
        expect({ name, refused }).toEqual({ name, refused: reported });
      }),
      RUNS,
    );
  });
});

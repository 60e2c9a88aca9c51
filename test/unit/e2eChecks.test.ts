/**
 * Every end-to-end check judged on made-up observations: each passes what the real engine
 * shows when all is well, and fails, with a message that says what went wrong, when one
 * condition is broken. The last test walks the check registry, so a check added to a scenario
 * without cases here fails the suite.
 */
import { describe, expect, it } from "vitest";
import * as checks from "../e2e/checks";
import { judge, registeredChecks, type Check } from "../e2e/lib/check";
import "../e2e/scenarios";

const D1 = `sha256:${"a".repeat(64)}`;
const D2 = `sha256:${"b".repeat(64)}`;
const REPO = "127.0.0.1:5000/pyfleet/vectors";
const SHA_TAG = "sha-1a2b3c4";

function ok(output = "", stdout = output) {
  return { status: 0, stdout, output, seconds: 1.5 };
}
function failed(output: string, status = 1) {
  return { status, stdout: "", output, seconds: 1.5 };
}
const app = {
  image: `${REPO}@${D1}`,
  digest: D1,
  repository: REPO,
  version: "0.3.0",
  tags: [`${REPO}:0.3.0`, `${REPO}:${SHA_TAG}`, `${REPO}:dev`],
};
const manifest = { path: "rendered/dev/vectors.yaml", text: `    image: ${app.image}\n` };
const other = { path: "rendered/dev/dashboard.yaml", text: "    image: elsewhere@sha256:0\n" };

/** A check with one observation it must pass and broken ones it must fail with `message`. */
interface Case<O> {
  check: Check<O>;
  pass: O;
  broken: { why: string; observation: O; message: RegExp }[];
}
const cases: Case<never>[] = [];
function cover<O>(c: Case<O>): void {
  cases.push(c as unknown as Case<never>);
}

const infraRunning =
  "dockerd:   running, pid 1\nregistry:  running, pid 2\nbuildkitd: running, pid 3\n";
const engine = {
  seconds: 12,
  infraStatus: { status: 0, text: infraRunning },
  registryStatus: 200,
  pulumiVersion: { status: 0, text: "v3.248.0\n" },
};
cover({
  check: checks.engineIsUp,
  pass: engine,
  broken: [
    {
      why: "buildkitd is down",
      observation: {
        ...engine,
        infraStatus: {
          status: 1,
          text: infraRunning.replace("buildkitd: running", "buildkitd: not running"),
        },
      },
      message: /local-infra.sh status exited 1/,
    },
    {
      why: "status exits 0 but a daemon is missing",
      observation: { ...engine, infraStatus: { status: 0, text: "dockerd:   running\n" } },
      message: /registry is not running/,
    },
    {
      why: "the registry does not answer",
      observation: { ...engine, registryStatus: 0 },
      message: /\/v2\/ answered nothing, expected 200/,
    },
    {
      why: "no pulumi CLI",
      observation: { ...engine, pulumiVersion: { status: 127, text: "not found" } },
      message: /pulumi version exited 127/,
    },
  ],
});

cover({
  check: checks.commandSucceeds,
  pass: { what: "up", run: ok() },
  broken: [
    {
      why: "non-zero exit",
      observation: { what: "destroy staging", run: failed("error: lock held") },
      message: /destroy staging failed \(exit 1\):\nerror: lock held/,
    },
  ],
});

cover({
  check: checks.previewPlansImages,
  pass: {
    run: ok("+ dashboard-image\n+ vectors-image\n+ science-image"),
    apps: ["dashboard", "vectors", "science"],
  },
  broken: [
    {
      why: "the preview failed",
      observation: { run: failed("boom"), apps: ["dashboard"] },
      message: /preview failed:\nboom/,
    },
    {
      why: "an image is missing from the plan",
      observation: { run: ok("+ dashboard-image"), apps: ["dashboard", "science"] },
      message: /no science-image in the plan/,
    },
  ],
});

const tags = {
  app: "vectors",
  out: app,
  revisionTag: SHA_TAG,
  environmentTag: "dev",
  resolved: { "0.3.0": D1, [SHA_TAG]: D1, dev: D1 } as Record<string, string | undefined>,
};
cover({
  check: checks.tagsResolveToDigest,
  pass: tags,
  broken: [
    {
      why: "no outputs",
      observation: { ...tags, out: undefined },
      message: /no vectors in the stack outputs/,
    },
    {
      why: "a malformed digest",
      observation: { ...tags, out: { ...app, digest: "sha256:xyz" } },
      message: /bad digest sha256:xyz/,
    },
    {
      why: "the sha tag names another digest",
      observation: { ...tags, resolved: { ...tags.resolved, [SHA_TAG]: D2 } },
      message: new RegExp(`${SHA_TAG} -> ${D2}, expected ${D1}`),
    },
    {
      why: "the dirty tag was expected but only the clean one was pushed",
      observation: { ...tags, revisionTag: `${SHA_TAG}-dirty`, resolved: { ...tags.resolved } },
      message: new RegExp(`${SHA_TAG}-dirty -> not found`),
    },
    {
      why: "the outputs do not list the sha tag",
      observation: { ...tags, out: { ...app, tags: [`${REPO}:dev`] } },
      message: new RegExp(`list no ${SHA_TAG} tag`),
    },
    {
      why: "no revision known",
      observation: { ...tags, revisionTag: undefined },
      message: /no git revision is known/,
    },
    {
      why: "the version tag is missing",
      observation: { ...tags, resolved: { ...tags.resolved, "0.3.0": undefined } },
      message: /0\.3\.0 -> not found/,
    },
  ],
});

cover({
  check: checks.manifestsPinDigest,
  pass: { image: app.image, files: [manifest, other] },
  broken: [
    {
      why: "no image",
      observation: { image: undefined, files: [manifest] },
      message: /no outputs/,
    },
    {
      why: "no manifest pins it",
      observation: { image: app.image, files: [other] },
      message: /expected one manifest with image .* found 0 of 1/,
    },
    {
      why: "two manifests pin it",
      observation: { image: app.image, files: [manifest, { ...manifest, path: "x.yaml" }] },
      message: /found 2 of 2/,
    },
  ],
});

cover({
  check: checks.appLeftOut,
  pass: { deployed: ["dashboard", "vectors"], disabled: "science" },
  broken: [
    {
      why: "the disabled app was deployed",
      observation: { deployed: ["dashboard", "science"], disabled: "science" },
      message: /science was deployed although disabled/,
    },
  ],
});

const health = { built: true, run: { status: 0, stderr: "" }, seconds: 3.2, timeoutSeconds: 120 };
cover({
  check: checks.imageAnswersHealth,
  pass: health,
  broken: [
    { why: "not built", observation: { ...health, built: false }, message: /not built/ },
    {
      why: "docker run failed",
      observation: { ...health, run: { status: 125, stderr: "no such image" } },
      message: /docker run failed: no such image/,
    },
    {
      why: "never answered",
      observation: { ...health, seconds: undefined },
      message: /no 200 within 120s/,
    },
  ],
});

cover({
  check: checks.healthcheckHealthy,
  pass: { status: "healthy", seconds: 4, timeoutSeconds: 60 },
  broken: [
    {
      why: "still starting",
      observation: { status: "starting", seconds: undefined, timeoutSeconds: 60 },
      message: /not healthy within 60s \(last status: starting\)/,
    },
  ],
});

const procStatus = "Name:\tpython\nUid:\t10001\t10001\t10001\t10001\n";
cover({
  check: checks.runsAsUid,
  pass: { pid: "4242", procStatus, uid: 10001 },
  broken: [
    {
      why: "runs as root",
      observation: { pid: "4242", procStatus: "Uid:\t0\t0\t0\t0\n", uid: 10001 },
      message: /Uid line of pid 4242: Uid:\t0\t0, expected uid 10001/,
    },
    {
      why: "effective uid differs",
      observation: { pid: "4242", procStatus: "Uid:\t10001\t0\t0\t0\n", uid: 10001 },
      message: /expected uid 10001/,
    },
    {
      why: "the process is gone",
      observation: { pid: "", procStatus: "", uid: 10001 },
      message: /Uid line of pid \?: none/,
    },
  ],
});

const k8sStep = {
  op: "create",
  urn: "urn:pulumi:staging::pyfleet::kubernetes:apps/v1:Deployment::vectors",
};
const imageStep = {
  op: "create",
  urn: "urn:pulumi:staging::pyfleet::pyfleet:image:PythonImage$docker-build:index:Image::vectors-image",
};
const promote = { plan: ok(), steps: [k8sStep], promote: ok() };
cover({
  check: checks.promotesWithoutBuild,
  pass: promote,
  broken: [
    {
      why: "preview failed",
      observation: { ...promote, plan: failed("x") },
      message: /preview failed/,
    },
    { why: "empty plan", observation: { ...promote, steps: [] }, message: /empty plan/ },
    {
      why: "an image build is planned",
      observation: { ...promote, steps: [k8sStep, imageStep] },
      message: /an Image is in the plan: .*vectors-image/,
    },
    {
      why: "up failed",
      observation: { ...promote, promote: failed("y") },
      message: /up failed:\ny/,
    },
  ],
});

const promoted = {
  stack: "staging",
  source: app,
  out: app,
  environmentDigest: D1,
  versionDigest: D1,
  files: [manifest],
};
cover({
  check: checks.promotedDigest,
  pass: promoted,
  broken: [
    { why: "no outputs", observation: { ...promoted, out: undefined }, message: /missing outputs/ },
    {
      why: "another digest deployed",
      observation: { ...promoted, out: { ...app, digest: D2 } },
      message: new RegExp(`staging runs ${D2}, dev ${D1}`),
    },
    {
      why: "the environment tag lags",
      observation: { ...promoted, environmentDigest: D2 },
      message: new RegExp(`:staging -> ${D2}`),
    },
    {
      why: "the version tag is missing",
      observation: { ...promoted, versionDigest: undefined },
      message: /:0\.3\.0 -> undefined/,
    },
    {
      why: "manifests deploy something else",
      observation: { ...promoted, files: [other] },
      message: /rendered manifests do not pin dev's digest/,
    },
  ],
});

const guardError = `error: vectors: pin ${REPO}@sha256:000 is not the digest staging runs now (${D1})`;
cover({
  check: checks.promotionGuarded,
  pass: { run: failed(guardError), stagingDigest: D1 },
  broken: [
    {
      why: "the preview passed",
      observation: { run: ok(), stagingDigest: D1 },
      message: /preview succeeded/,
    },
    {
      why: "it failed for another reason",
      observation: { run: failed("error: no such stack"), stagingDigest: D1 },
      message: /no guard error:\nerror: no such stack/,
    },
    {
      why: "no staging digest to compare",
      observation: { run: failed(guardError), stagingDigest: undefined },
      message: /no digest of staging/,
    },
  ],
});

cover({
  check: checks.policyPasses,
  pass: { run: ok("Policies:\n    pyfleet@v0.1.0 (local: policy)\n") },
  broken: [
    { why: "preview failed", observation: { run: failed("x") }, message: /preview failed/ },
    {
      why: "the pack did not run",
      observation: { run: ok("Resources: 12 unchanged") },
      message: /no policy pack in the output/,
    },
  ],
});

const violation = "    mandatory: [ingress-tls] host vectors.example.com has no TLS";
cover({
  check: checks.policyViolated,
  pass: { run: failed(`Policy Violations:\n${violation}\n`), host: "vectors.example.com" },
  broken: [
    {
      why: "the preview passed",
      observation: { run: ok(), host: "vectors.example.com" },
      message: /preview succeeded/,
    },
    {
      why: "an advisory violation only",
      observation: {
        run: failed("advisory: host vectors.example.com"),
        host: "vectors.example.com",
      },
      message: /no violation/,
    },
    {
      why: "it failed without naming the host",
      observation: { run: failed("mandatory: something else"), host: "vectors.example.com" },
      message: /no violation/,
    },
  ],
});

const step = (op: string, name: string) => ({
  op,
  urn: `urn:pulumi:dev::pyfleet::pyfleet:image:PythonImage$docker-build:index:Image::${name}`,
});
const diff = {
  run: ok(),
  steps: [step("same", "dashboard-image"), step("update", "vectors-image")],
  image: "vectors-image",
};
cover({
  check: checks.onlyImageChanges,
  pass: diff,
  broken: [
    {
      why: "preview failed",
      observation: { ...diff, run: failed("x") },
      message: /preview failed/,
    },
    {
      why: "both images change",
      observation: {
        ...diff,
        steps: [step("update", "dashboard-image"), step("update", "vectors-image")],
      },
      message: /changed images: dashboard-image, vectors-image/,
    },
    {
      why: "nothing changes",
      observation: { ...diff, steps: [step("same", "vectors-image")] },
      message: /changed images: none/,
    },
  ],
});

const rebuild = {
  run: ok(),
  coldSeconds: 40,
  changed: { before: D1, after: D2 },
  unchanged: { before: D1, after: D1 },
  layers: { before: ["l1", "l2", "l3"], after: ["l1", "l2", "l4"] },
};
cover({
  check: checks.dependencyLayersReused,
  pass: rebuild,
  broken: [
    { why: "up failed", observation: { ...rebuild, run: failed("x") }, message: /up failed/ },
    {
      why: "the digest did not change",
      observation: { ...rebuild, changed: { before: D1, after: D1 } },
      message: /digest did not change/,
    },
    {
      why: "a dependency layer was rebuilt",
      observation: {
        ...rebuild,
        layers: { before: ["l1", "l2", "l3"], after: ["l1", "l5", "l4"] },
      },
      message: /reused 1 of 3 layers/,
    },
    {
      why: "no layers read",
      observation: { ...rebuild, layers: { before: [], after: [] } },
      message: /reused 0 of 0 layers/,
    },
    {
      why: "the other image changed",
      observation: { ...rebuild, unchanged: { before: D1, after: D2 } },
      message: /the unchanged app's image changed too/,
    },
  ],
});

const refused = {
  run: failed("error: pyfleet:replicas: must be >= 0, got -1 (Pulumi.dev.yaml)"),
  error: "pyfleet:replicas: must be >= 0, got -1",
  stateBefore: '{"deployment":{}}',
  stateAfter: '{"deployment":{}}',
};
cover({
  check: checks.badConfigRefused,
  pass: refused,
  broken: [
    {
      why: "the preview passed",
      observation: { ...refused, run: ok() },
      message: /preview succeeded/,
    },
    {
      why: "another error",
      observation: { ...refused, run: failed("error: plugin crashed") },
      message: /no settings error:\nerror: plugin crashed/,
    },
    {
      why: "no state to compare",
      observation: { ...refused, stateBefore: "", stateAfter: "" },
      message: /no state was exported/,
    },
    {
      why: "the state changed",
      observation: { ...refused, stateAfter: '{"deployment":{"resources":[1]}}' },
      message: /the stack state changed/,
    },
  ],
});

cover({
  check: checks.stateEmptied,
  pass: { run: ok(), state: '{"version":3,"deployment":{"resources":[]}}' },
  broken: [
    {
      why: "destroy failed",
      observation: { run: failed("x"), state: "{}" },
      message: /destroy failed/,
    },
    {
      why: "resources remain",
      observation: { run: ok(), state: '{"deployment":{"resources":[{},{}]}}' },
      message: /2 resources remain in the state/,
    },
    {
      why: "no state export",
      observation: { run: ok(), state: "" },
      message: /not JSON: \(empty\)/,
    },
  ],
});

const previous = {
  commit: { sha: "e63c7c3".padEnd(40, "0") },
  runs: [{ stack: "dev", run: ok() }],
};
cover({
  check: checks.previousStateMade,
  pass: previous,
  broken: [
    {
      why: "the commit is not in a shallow clone",
      observation: { commit: { error: "commit e63c7c3 is not in the repository" }, runs: [] },
      message: /no previous version to upgrade from: commit e63c7c3 is not in the repository/,
    },
    { why: "nothing ran", observation: { ...previous, runs: [] }, message: /updated no stack/ },
    {
      why: "its up failed",
      observation: { ...previous, runs: [{ stack: "dev", run: failed("old error") }] },
      message: /previous version's up of dev failed:\nold error/,
    },
  ],
});

const urn = (type: string, name: string) => `urn:pulumi:dev::pyfleet::${type}::${name}`;
const upgraded = {
  resourcesBefore: 14,
  plan: ok(),
  steps: [{ op: "same", urn: urn("docker-build:index:Image", "vectors-image") }],
  planned: { same: 14 },
  up: ok(),
  performed: { same: 14 } as Record<string, number> | undefined,
};
cover({
  check: checks.upgradeReplacesNothing,
  pass: upgraded,
  broken: [
    {
      why: "no state from the previous version",
      observation: { ...upgraded, resourcesBefore: 0 },
      message: /left no resources in the state/,
    },
    {
      why: "preview failed",
      observation: { ...upgraded, plan: failed("x") },
      message: /preview failed/,
    },
    { why: "empty plan", observation: { ...upgraded, steps: [] }, message: /empty plan/ },
    {
      why: "a replacement is planned",
      observation: {
        ...upgraded,
        steps: [{ op: "replace", urn: urn("docker-build:index:Image", "vectors-image") }],
      },
      message: /takes 1 existing resources away: vectors-image \(replace/,
    },
    {
      why: "a re-parented resource without an alias (create + delete)",
      observation: {
        ...upgraded,
        steps: [
          {
            op: "create",
            urn: urn("pyfleet:app:AppRelease$docker-build:index:Image", "vectors-image"),
          },
          {
            op: "delete",
            urn: urn("pyfleet:image:PythonImage$docker-build:index:Image", "vectors-image"),
          },
        ],
      },
      message: /vectors-image \(delete, .*needs an alias/,
    },
    {
      why: "the summary counts a replacement",
      observation: { ...upgraded, planned: { same: 13, replace: 1 } },
      message: /the plan counts 1 replace: 13 same, 1 replace/,
    },
    { why: "up failed", observation: { ...upgraded, up: failed("y") }, message: /up failed:\ny/ },
    {
      why: "no history entry",
      observation: { ...upgraded, performed: undefined },
      message: /no entry in the stack history/,
    },
    {
      why: "the update replaced something",
      observation: { ...upgraded, performed: { same: 13, replace: 1 } },
      message: /the update performed 1 replace/,
    },
    {
      why: "the update deleted something",
      observation: { ...upgraded, performed: { same: 13, delete: 1, create: 1 } },
      message: /the update performed 1 delete/,
    },
  ],
});

cover({
  check: checks.scenarioCompleted,
  pass: { scenario: "preview", error: undefined },
  broken: [
    {
      why: "the scenario threw",
      observation: { scenario: "up dev", error: new Error("ENOENT: no such file") },
      message: /scenario "up dev" threw: Error: ENOENT: no such file/,
    },
  ],
});

const rollout = {
  replicas: 2,
  readyReplicas: 2,
  updatedReplicas: 2,
  observed: true,
  pods: [
    { name: "vectors-1", ready: true, started: true, restarts: 0 },
    { name: "vectors-2", ready: true, started: true, restarts: 0 },
  ],
};
cover({
  check: checks.rolloutReady,
  pass: rollout,
  broken: [
    {
      why: "a replica is not ready",
      observation: { ...rollout, readyReplicas: 1 },
      message: /1 ready and 2 updated of 2 replicas/,
    },
    {
      why: "a replica still runs the previous template",
      observation: { ...rollout, readyReplicas: 3, updatedReplicas: 1 },
      message: /3 ready and 1 updated of 2 replicas/,
    },
    {
      why: "a probe failed and the container restarted",
      observation: {
        ...rollout,
        pods: [rollout.pods[0]!, { ...rollout.pods[1]!, restarts: 2 }],
      },
      message: /vectors-2 restarted 2 times/,
    },
    {
      why: "the controller lags behind",
      observation: { ...rollout, observed: false },
      message: /not observed the latest generation/,
    },
  ],
});

cover({
  check: checks.answers200,
  pass: { via: "ingress vectors.dev.localhost/health", status: 200, text: "{}" },
  broken: [
    {
      why: "Traefik has no route",
      observation: {
        via: "ingress vectors.dev.localhost/health",
        status: 404,
        text: "404 page not found",
      },
      message: /status 404 \(404 page not found\)/,
    },
  ],
});

const hardened = {
  namespaceLabels: { "pod-security.kubernetes.io/enforce": "restricted" },
  imageUid: 10001,
  securityContext: { runAsUser: 10001, runAsNonRoot: true, readOnlyRootFilesystem: true },
  exec: { status: 0, stdout: "10001\nread-only\n" },
};
cover({
  check: checks.podHardened,
  pass: hardened,
  broken: [
    {
      why: "the namespace only warns",
      observation: {
        ...hardened,
        namespaceLabels: { "pod-security.kubernetes.io/warn": "restricted" },
      },
      message: /enforce label is missing/,
    },
    {
      why: "the container runs as another uid",
      observation: { ...hardened, exec: { status: 0, stdout: "0\nread-only\n" } },
      message: /runs as uid 0, the image says 10001/,
    },
    {
      why: "the root filesystem is writable",
      observation: { ...hardened, exec: { status: 0, stdout: "10001\nwritable\n" } },
      message: /gave "writable"/,
    },
  ],
});

const promotedPods = {
  digest: D1,
  imageIds: [`${REPO}@${D1}`, `${REPO}@${D1}`],
  readyReplicas: 2,
  minimum: 2,
  spread: true,
};
cover({
  check: checks.promotedPodsRun,
  pass: promotedPods,
  broken: [
    {
      why: "a pod runs another digest",
      observation: { ...promotedPods, imageIds: [`${REPO}@${D1}`, `${REPO}@${D2}`] },
      message: /pods run .*bbbb/,
    },
    {
      why: "fewer replicas than the environment requires",
      observation: { ...promotedPods, readyReplicas: 1 },
      message: /1 ready, at least 2 required/,
    },
  ],
});

cover({
  check: checks.hpaReadsMetrics,
  pass: { utilizations: [3], scalingActive: "True", seconds: 45 },
  broken: [
    {
      why: "metrics-server never answered",
      observation: { utilizations: [], scalingActive: "False", seconds: undefined },
      message: /never reported current metrics/,
    },
  ],
});

const evicted = { status: 0, text: 'pod "vectors-1" evicted' };
const refusedEviction = {
  status: 1,
  text: "Cannot evict pod as it would violate the pod's disruption budget.",
};
cover({
  check: checks.pdbEnforced,
  pass: { first: evicted, second: refusedEviction },
  broken: [
    {
      why: "the second eviction went through",
      observation: { first: evicted, second: evicted },
      message: /the budget is not in force/,
    },
    {
      why: "the first was refused already",
      observation: { first: refusedEviction, second: refusedEviction },
      message: /first eviction was refused/,
    },
  ],
});

cover({
  check: checks.claimsBound,
  pass: {
    claims: [{ name: "vectors-vector-data-1a2b3c4d", phase: "Bound", storageClass: "local-path" }],
    expected: 1,
  },
  broken: [
    {
      why: "the claim waits for a volume",
      observation: {
        claims: [
          { name: "vectors-vector-data-1a2b3c4d", phase: "Pending", storageClass: "local-path" },
        ],
        expected: 1,
      },
      message: /is Pending/,
    },
  ],
});

cover({
  check: checks.networkPolicyEnforced,
  pass: { log: "wget: can't connect to remote host: Connection refused\napp rc=1\ncontrol rc=0\n" },
  broken: [
    {
      why: "the app answered the other namespace",
      observation: { log: "app rc=0\ncontrol rc=0\n" },
      message: /answered a pod of another namespace/,
    },
    {
      why: "the probe pod has no network at all",
      observation: { log: "app rc=1\ncontrol rc=1\n" },
      message: /could not reach Traefik either/,
    },
  ],
});

cover({
  check: checks.admissionRefuses,
  pass: {
    run: failed(
      'Error from server (Forbidden): pods "loosened" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false',
    ),
  },
  broken: [
    {
      why: "the pod was admitted",
      observation: { run: ok("pod/loosened created (server dry run)") },
      message: /was admitted/,
    },
    {
      why: "it was refused for a typo",
      observation: { run: failed("error: unable to decode") },
      message: /refused for another reason/,
    },
  ],
});

const REFUSAL =
  "error: Deployment pyfleet-e2e-dev/dashboard-4f1c2a9b did not become ready; the cluster says:\n" +
  '  - the cluster refused its pods: pods "dashboard-4f1c2a9b-6d9-x" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "dashboard" must set securityContext.allowPrivilegeEscalation=false)';
const loosened = {
  run: {
    ...failed(`kubernetes:apps/v1:Deployment dashboard updating failed\n${REFUSAL}`),
    seconds: 150,
  },
  app: "dashboard",
  limitSeconds: 120,
};
cover({
  check: checks.admissionFailsUp,
  pass: loosened,
  broken: [
    {
      why: "the loosened pods were admitted",
      observation: { ...loosened, run: { ...ok(REFUSAL), seconds: 150 } },
      message: /up succeeded/,
    },
    {
      why: "the failure names another app",
      observation: { ...loosened, app: "vectors" },
      message: /does not name vectors's Deployment/,
    },
    {
      why: "only the provider's symptom, no cause",
      observation: {
        ...loosened,
        run: {
          ...failed(
            "error: Deployment pyfleet-e2e-dev/dashboard-4f1c2a9b did not become ready; the cluster names no cause\n[ProgressDeadlineExceeded] ReplicaSet has timed out progressing",
          ),
          seconds: 150,
        },
      },
      message: /lacks admission's refusal/,
    },
    {
      why: "it took far longer than the deadline",
      observation: { ...loosened, run: { ...loosened.run, seconds: 600 } },
      message: /more than 120s \+ 120s/,
    },
  ],
});

const brokenRelease = {
  run: {
    ...failed("kubernetes:apps/v1:Deployment vectors updating failed: Deployment is not ready"),
    seconds: 75,
  },
  deadlineSeconds: 60,
  marginSeconds: 60,
  resourceSeconds: 120,
  polls: Array.from({ length: 150 }, () => 200),
};
cover({
  check: checks.brokenReleaseFails,
  pass: brokenRelease,
  broken: [
    {
      why: "up succeeded",
      observation: { ...brokenRelease, run: ok() },
      message: /up succeeded/,
    },
    {
      why: "the Deployment waited past the deadline and margin",
      observation: { ...brokenRelease, resourceSeconds: 600 },
      message: /failed after 600s, more than 120s/,
    },
  ],
});
cover({
  check: checks.previousKeepsServing,
  pass: brokenRelease,
  broken: [
    {
      why: "the app failed answers during the rollout",
      observation: { ...brokenRelease, polls: [200, 200, 502, 200, 200, 0] },
      message: /2 of 6 polls did not answer 200: 502, 0/,
    },
  ],
});

const destroyed = {
  objects: ["PersistentVolumeClaim/pyfleet-dev/vectors-vector-data-85e84103"],
  namespaces: ["pyfleet-dev"],
  retained: ["pyfleet-dev", "vectors-vector-data"],
};
cover({
  check: checks.nothingLeft,
  pass: destroyed,
  broken: [
    {
      why: "a Deployment outlived destroy",
      observation: {
        ...destroyed,
        objects: [...destroyed.objects, "Deployment/pyfleet-dev/vectors-ab942d5f"],
      },
      message: /objects left: Deployment\/pyfleet-dev\/vectors-ab942d5f/,
    },
    {
      why: "a claim was left that destroy did not name",
      observation: { ...destroyed, retained: ["pyfleet-dev"] },
      message: /objects left: PersistentVolumeClaim/,
    },
    {
      why: "a namespace was left that destroy did not name",
      observation: { ...destroyed, namespaces: ["pyfleet-staging"] },
      message: /namespaces left: pyfleet-staging/,
    },
  ],
});

const fault = {
  daemon: "kube-apiserver",
  during: failed(
    'error: Get "https://127.0.0.1:6443/api?timeout=32s": dial tcp 127.0.0.1:6443: connect: connection refused',
  ),
  after: ok(),
  state: JSON.stringify({ deployment: { resources: [{}] } }),
};
cover({
  check: checks.faultRecovered,
  pass: fault,
  broken: [
    {
      why: "the next up did not converge",
      observation: { ...fault, after: failed("error: update failed") },
      message: /the up after the kube-apiserver fault failed/,
    },
    {
      why: "the fault left a pending operation",
      observation: {
        ...fault,
        state: JSON.stringify({ deployment: { pending_operations: [{ type: "creating" }] } }),
      },
      message: /1 pending operations left/,
    },
    {
      why: "the failing up crashed with a stack trace",
      observation: {
        ...fault,
        during: failed(
          "TypeError: x is undefined\n    at main (/p/index.ts:10:5)\nconnection refused",
        ),
      },
      message: /printed a stack trace/,
    },
    {
      why: "the up hung until the harness stopped it",
      observation: {
        ...fault,
        during: failed(
          "unable to get cluster state: EOF\n[harness] node exceeded 600s and was stopped (pid 1)",
        ),
      },
      message: /hung until the harness stopped it/,
    },
    {
      why: "the failing up said nothing about the cluster",
      observation: { ...fault, during: failed("error: something happened") },
      message: /without naming the cluster/,
    },
  ],
});

const plainUp = "Updating (dev):\n\nResources:\n    24 unchanged\n\nDuration: 6s\n";
cover({
  check: checks.plainUpAgrees,
  pass: { run: ok(plainUp) },
  broken: [
    {
      why: "the language host is missing",
      observation: {
        run: failed("error: failed to load language plugin nodejs: no language plugin"),
      },
      message: /plain pulumi up failed: .*language plugin/,
    },
    {
      why: "it changed what the Automation API deployed",
      observation: { run: ok("Resources:\n    ~ 1 updated\n    23 unchanged\n") },
      message: /changed resources: ~ 1 updated/,
    },
  ],
});

const dryRun = {
  stack: "prod",
  render: ok("rendered 2 objects"),
  documents: 2,
  run: ok(
    "deployment.apps/vectors-1a2b3c4d serverside-applied (server dry run)\nservice/vectors-1a2b3c4d serverside-applied (server dry run)\n",
  ),
};
cover({
  check: checks.serverAcceptsAll,
  pass: dryRun,
  broken: [
    {
      why: "the API server refused an Ingress",
      observation: {
        ...dryRun,
        run: failed(
          'The Ingress "vectors" is invalid: spec.rules[0].host: Invalid value: "vectors..example.com"',
        ),
      },
      message: /refused objects of prod: .*Invalid value/,
    },
    {
      why: "an object was not applied",
      observation: { ...dryRun, documents: 3 },
      message: /accepted 2 of 3 objects/,
    },
  ],
});

cover({
  check: checks.previewPlansNothing,
  pass: { run: ok(), changes: { same: 26 } },
  broken: [
    {
      why: "the build provider is replaced by another DOCKER_HOST",
      observation: { run: ok(), changes: { same: 20, replace: 3, update: 2 } },
      message: /preview plans 3 replace, 2 update/,
    },
    {
      why: "the preview failed",
      observation: { run: failed("error: no stack named dev"), changes: {} },
      message: /preview failed: error: no stack named dev/,
    },
  ],
});

const verifiedHead = {
  digest: D1,
  since: "2026-12-01T10:00:00.000Z",
  verification: { passed: true, at: "2026-12-01T10:00:05.000Z", failures: [] },
};
const verifiedStage = {
  stack: "staging",
  apps: { vectors: { ...app, history: [verifiedHead] } },
  digests: { vectors: D1 },
};
cover({
  check: checks.stageVerified,
  pass: verifiedStage,
  broken: [
    {
      why: "the stage keeps no history",
      observation: { ...verifiedStage, apps: { vectors: app } },
      message: /records no history of vectors/,
    },
    {
      why: "the history starts at another digest",
      observation: { ...verifiedStage, digests: { vectors: D2 } },
      message: /history starts at sha256:a/,
    },
    {
      why: "the verification failed",
      observation: {
        ...verifiedStage,
        apps: {
          vectors: {
            ...app,
            history: [
              {
                ...verifiedHead,
                verification: {
                  passed: false,
                  at: verifiedHead.since,
                  failures: ["GET /ready 503"],
                },
              },
            ],
          },
        },
      },
      message: /verification failed: GET \/ready 503/,
    },
    {
      why: "nothing was verified",
      observation: {
        ...verifiedStage,
        apps: { vectors: { ...app, history: [{ digest: D1, since: verifiedHead.since }] } },
      },
      message: /has no verification/,
    },
  ],
});

const SOAK_REFUSAL =
  'error: promotion from staging refused; nothing was changed:\n  - app "vectors": no digest staging ran passes the gates:\n      sha256:bbbbbbbbbbbb: ran 12s of the 59s soak on staging';
const images = { vectors: `${REPO}@${D1}` };
const refusal = {
  run: failed(SOAK_REFUSAL),
  expected: /ran \w+ of the 59s soak on staging/,
  digest: D2,
  before: images,
  after: images,
};
cover({
  check: checks.gateRefuses,
  pass: refusal,
  broken: [
    {
      why: "the unsoaked digest was deployed",
      observation: { ...refusal, run: ok("Resources: 1 updated") },
      message: /up succeeded/,
    },
    {
      why: "it failed for another reason",
      observation: { ...refusal, run: failed("error: the registry did not answer") },
      message: /does not say the promotion was refused/,
    },
    {
      why: "the refusal names another gate",
      observation: { ...refusal, expected: /verification on staging failed/ },
      message: /lacks \/verification on staging failed\//,
    },
    {
      why: "the refusal names another digest (a placeholder of an offline check, say)",
      observation: { ...refusal, digest: D1 },
      message: /does not name sha256:aaaaaaaaaaaa/,
    },
    {
      why: "a Deployment changed anyway",
      observation: { ...refusal, after: { vectors: `${REPO}@${D2}` } },
      message: /the Deployments changed/,
    },
  ],
});

const passedGates = {
  states: [
    { gate: "soaked", ok: true, detail: "ran 1m on staging" },
    { gate: "verified", ok: true, detail: "verified on staging" },
  ],
};
const landing = {
  run: ok(),
  apps: { vectors: { ...app, gates: passedGates } },
  digests: { vectors: D1 },
  gates: ["soaked", "verified"],
};
cover({
  check: checks.gatedPromotionLands,
  pass: landing,
  broken: [
    {
      why: "the up failed",
      observation: { ...landing, run: failed("error: refused") },
      message: /up failed/,
    },
    {
      why: "prod runs another digest",
      observation: { ...landing, digests: { vectors: D2 } },
      message: /vectors runs sha256:a+, expected sha256:b+/,
    },
    {
      why: "the outputs carry no gates",
      observation: { ...landing, apps: { vectors: app } },
      message: /gate soaked not recorded as passed/,
    },
    {
      why: "glass was broken",
      observation: {
        ...landing,
        apps: { vectors: { ...app, gates: { ...passedGates, brokeGlass: "INC-1" } } },
      },
      message: /glass was broken/,
    },
  ],
});

const unverifiedHead = {
  ...verifiedHead,
  verification: { passed: false, at: verifiedHead.since, failures: ["GET /no-such-path 404"] },
};
const failedVerification = {
  run: failed(
    "error: vectors: verification of the rollout failed: GET http://127.0.0.1:8088/no-such-path (Host vectors.e2e-staging.localhost) answered 404 after 15 tries",
  ),
  app: "vectors",
  apps: { vectors: { ...app, history: [unverifiedHead] } },
};
cover({
  check: checks.verificationFailsUp,
  pass: failedVerification,
  broken: [
    {
      why: "the up succeeded",
      observation: { ...failedVerification, run: ok() },
      message: /up succeeded/,
    },
    {
      why: "the output does not name the check",
      observation: { ...failedVerification, run: failed("error: something else") },
      message: /does not name vectors's failed check/,
    },
    {
      why: "the digest is still recorded as verified",
      observation: {
        ...failedVerification,
        apps: { vectors: { ...app, history: [verifiedHead] } },
      },
      message: /still recorded as verified/,
    },
  ],
});

const CONDA_OUT = Array.from({ length: 11 }, (_, i) => `PASS step ${i}`).join("\n");
const condaRun = { run: ok(CONDA_OUT), minimum: 11 };
cover({
  check: checks.condaImageWorks,
  pass: condaRun,
  broken: [
    {
      why: "a step failed",
      observation: { ...condaRun, run: { ...ok(`${CONDA_OUT}\nFAIL /health answers`), status: 1 } },
      message: /failed: FAIL \/health answers/,
    },
    {
      why: "it stopped early",
      observation: { ...condaRun, run: ok("PASS step 0") },
      message: /only 1 of 11 checks ran/,
    },
    {
      why: "it crashed without a FAIL line",
      observation: { ...condaRun, run: { ...ok(CONDA_OUT), status: 1 } },
      message: /exited 1/,
    },
  ],
});

describe("rollout-ready while the previous ReplicaSet scales down", () => {
  it("passes: its pods still count as ready until the new ones are available", () => {
    const verdict = judge(checks.rolloutReady, { ...rollout, readyReplicas: 3 });
    expect(verdict, verdict.detail).toMatchObject({ passed: true });
  });
});

describe("retainedBy", () => {
  it("reads the resources a destroy kept from its output", () => {
    const output = [
      " -  kubernetes:core/v1:PersistentVolumeClaim vectors-vector-data deleting (0s)[retain] ",
      " -  kubernetes:core/v1:PersistentVolumeClaim vectors-vector-data deleted (0.03s)[retain] ",
      " -  kubernetes:core/v1:Namespace pyfleet-dev deleted (0.01s)[retain] ",
      " -  kubernetes:apps/v1:Deployment vectors deleted (1.2s) ",
    ].join("\n");
    expect(checks.retainedBy(output)).toEqual(["vectors-vector-data", "pyfleet-dev"]);
  });
});

describe("e2e checks", () => {
  for (const c of cases) {
    describe(c.check.id, () => {
      it("passes the observation of a working engine", () => {
        const verdict = judge(c.check, c.pass);
        expect(verdict.detail).toBeTypeOf("string");
        expect(verdict, verdict.detail).toMatchObject({ passed: true });
      });
      for (const broken of c.broken) {
        it(`fails when ${broken.why}`, () => {
          const verdict = judge(c.check, broken.observation);
          expect(verdict.passed).toBe(false);
          expect(verdict.detail).toMatch(broken.message);
        });
      }
    });
  }

  it("covers every registered check, the ones the scenarios use included", () => {
    const registered = registeredChecks().map((c) => c.id);
    const covered = cases.map((c) => c.check.id);
    expect(registered.length).toBeGreaterThan(0);
    expect(registered.filter((id) => !covered.includes(id))).toEqual([]);
    expect(covered.filter((id, i) => covered.indexOf(id) !== i)).toEqual([]);
    expect(cases.every((c) => c.broken.length > 0)).toBe(true);
  });
});

const signer = "f".repeat(64);
const signedApp = {
  ...app,
  digest: D1,
  image: `${REPO}@${D1}`,
  supplyChain: {
    signed: true,
    signer,
    sbom: { format: "spdx-json", sha256: "e".repeat(64), packages: 120 },
  },
};
const stem = D1.replace(":", "-");
const signedStack = {
  stack: "dev",
  up: ok(),
  apps: { vectors: signedApp },
  names: ["vectors"],
  tags: { vectors: ["1.4.0", `${stem}.sig`, `${stem}.att`] },
  byHand: { vectors: { verify: ok("[{}]"), attestation: ok('{"payload":"e30="}') } },
  signer,
  state: '{"signingKey": {"4dabf18193072939515e22adb298388d": "ciphertext"}}',
  log: "Resources: 2 created",
  secrets: ["MIIBxyzSECRETBODY", "e2e-signing-password"],
};
cover({
  check: checks.stackSigned,
  pass: signedStack,
  broken: [
    {
      why: "the up failed",
      observation: { ...signedStack, up: failed("error: cosign failed") },
      message: /up dev failed/,
    },
    {
      why: "the outputs say nothing of a signature",
      observation: { ...signedStack, apps: { vectors: { ...app, digest: D1 } } },
      message: /no supplyChain/,
    },
    {
      why: "signed with another key",
      observation: {
        ...signedStack,
        apps: { vectors: { ...signedApp, supplyChain: { ...signedApp.supplyChain, signer: "0" } } },
      },
      message: /signer 0, expected/,
    },
    {
      why: "the SBOM is nearly empty",
      observation: {
        ...signedStack,
        apps: {
          vectors: {
            ...signedApp,
            supplyChain: {
              ...signedApp.supplyChain,
              sbom: { ...signedApp.supplyChain.sbom, packages: 1 },
            },
          },
        },
      },
      message: /lists 1 packages/,
    },
    {
      why: "the registry holds no attestation",
      observation: { ...signedStack, tags: { vectors: ["1.4.0", `${stem}.sig`] } },
      message: /no sha256-a+\.att/,
    },
    {
      why: "the password is in the state in the clear",
      observation: { ...signedStack, state: '{"password": "e2e-signing-password"}' },
      message: /in the state in the clear/,
    },
    {
      why: "the key is in the log",
      observation: { ...signedStack, log: "cosign.key: MIIBxyzSECRETBODY" },
      message: /is in the log/,
    },
    {
      why: "cosign does not verify it by hand",
      observation: {
        ...signedStack,
        byHand: {
          vectors: { verify: failed("Error: no signatures found"), attestation: ok("payload") },
        },
      },
      message: /cosign verify failed/,
    },
  ],
});

const supplyRefusal = {
  run: failed(
    'error: the supply chain refuses promotion from staging; nothing was changed:\n  - app "vectors": sha256:bbbb: no signature verifies against the public key',
  ),
  expected: [/app "vectors"/, /no signature verifies/],
  before: images,
  after: images,
};
cover({
  check: checks.supplyChainRefuses,
  pass: supplyRefusal,
  broken: [
    {
      why: "the unsigned digest was deployed",
      observation: { ...supplyRefusal, run: ok("Resources: 1 updated") },
      message: /the command succeeded/,
    },
    {
      why: "it failed for another reason",
      observation: { ...supplyRefusal, run: failed("error: the registry did not answer") },
      message: /does not say \/app "vectors"\//,
    },
    {
      why: "the stack changed anyway",
      observation: { ...supplyRefusal, after: { vectors: `${REPO}@${D2}` } },
      message: /the stack changed/,
    },
  ],
});

const supplyPass = {
  run: ok(),
  app: "vectors",
  apps: {
    vectors: {
      ...signedApp,
      supplyChain: {
        ...signedApp.supplyChain,
        vulnerabilities: {
          findings: [{ id: "GHSA-2g68-c3qc-8985", package: "werkzeug", version: "3.0.1" }],
          summary: "1 advisory (1 high): GHSA-2g68-c3qc-8985",
        },
      },
    },
  },
  advisory: "GHSA-2g68-c3qc-8985",
};
cover({
  check: checks.supplyChainPasses,
  pass: supplyPass,
  broken: [
    {
      why: "the up failed",
      observation: { ...supplyPass, run: failed("error: refused") },
      message: /failed/,
    },
    {
      why: "the outputs record no verified signature",
      observation: { ...supplyPass, apps: { vectors: { ...app } } },
      message: /no verified signature/,
    },
    {
      why: "the scan missed the advisory",
      observation: {
        ...supplyPass,
        apps: { vectors: { ...signedApp, supplyChain: { ...signedApp.supplyChain } } },
      },
      message: /the scan lists nothing/,
    },
  ],
});

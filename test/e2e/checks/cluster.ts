/**
 * Checks of what a real API server, kubelet, Traefik, kube-router and local-path did with the
 * objects pyfleet created: rollouts Ready through the provider's own await, pods as hardened
 * as the spec says, promotions running the same digest, the HPA and PDB working, NetworkPolicy
 * enforced, a broken release failing while the previous one serves, and destroy leaving
 * nothing behind.
 */
import { defineCheck, ensure } from "../lib/check";
import { tail, type CommandRun } from "./observed";

/** A Deployment's status and its pods, as the API server reports them. */
export interface RolloutObservation {
  /** `spec.replicas`. */
  replicas: number;
  /** `status.readyReplicas` (0 when absent). */
  readyReplicas: number;
  /** `status.updatedReplicas` (0 when absent). */
  updatedReplicas: number;
  /** Whether `status.observedGeneration` caught up with `metadata.generation`. */
  observed: boolean;
  /** Per pod of the current ReplicaSet: ready, started, restarts. */
  pods: { name: string; ready: boolean; started: boolean; restarts: number }[];
}

/** Every replica of the new ReplicaSet is Ready, started (the startup probe passed), unrestarted. */
export const rolloutReady = defineCheck<RolloutObservation>("rollout-ready", (o) => {
  ensure(o.observed, "the controller has not observed the latest generation");
  ensure(o.replicas >= 1, `spec.replicas is ${o.replicas}`);
  // Ready may exceed the replicas for a moment: the previous ReplicaSet's pods count until the
  // controller has scaled it down, which it does only once the new pods are available.
  ensure(
    o.readyReplicas >= o.replicas && o.updatedReplicas === o.replicas,
    `${o.readyReplicas} ready and ${o.updatedReplicas} updated of ${o.replicas} replicas`,
  );
  ensure(o.pods.length >= o.replicas, `${o.pods.length} pods for ${o.replicas} replicas`);
  for (const p of o.pods) {
    ensure(p.started && p.ready, `pod ${p.name}: started ${p.started}, ready ${p.ready}`);
    ensure(p.restarts === 0, `pod ${p.name} restarted ${p.restarts} times (a probe failed)`);
  }
  return `${o.readyReplicas}/${o.replicas} ready`;
});

/** An HTTP answer through one path to the app. */
export interface AnswerObservation {
  /** Through what: "ingress <host>" or "service <name>". */
  via: string;
  /** HTTP status (0 when no answer). */
  status: number;
  /** Error or start of the body. */
  text: string;
}

/** The app answered 200. */
export const answers200 = defineCheck<AnswerObservation>("answers-200", (o) => {
  ensure(o.status === 200, `through ${o.via}: status ${o.status} (${o.text.slice(0, 200)})`);
  return `through ${o.via}`;
});

/** The namespace's admission labels and what one running pod reports from inside. */
export interface HardenedPodObservation {
  /** The namespace's labels. */
  namespaceLabels: Record<string, string>;
  /** The uid the image declares (its `USER`). */
  imageUid: number;
  /** The container's securityContext as admitted. */
  securityContext: { runAsUser?: number; runAsNonRoot?: boolean; readOnlyRootFilesystem?: boolean };
  /** Output of `id -u` and a write attempt on `/`, run in the container. */
  exec: { status: number; stdout: string };
}

/** Admitted by `enforce=restricted`, running as the image's uid, with a read-only root. */
export const podHardened = defineCheck<HardenedPodObservation>("pod-hardened", (o) => {
  ensure(
    o.namespaceLabels["pod-security.kubernetes.io/enforce"] === "restricted",
    `namespace enforce label is ${o.namespaceLabels["pod-security.kubernetes.io/enforce"] ?? "missing"}`,
  );
  ensure(
    o.securityContext.readOnlyRootFilesystem === true,
    "readOnlyRootFilesystem is not true in the admitted pod",
  );
  ensure(o.exec.status === 0, `exec in the container failed: ${o.exec.stdout}`);
  const [uid, write] = o.exec.stdout.trim().split("\n");
  ensure(
    uid === String(o.imageUid),
    `the container runs as uid ${uid}, the image says ${o.imageUid}`,
  );
  ensure(write === "read-only", `a write to / gave "${write}", not a read-only error`);
  return `uid ${uid}, root read-only`;
});

/** What a promoted stack's pods run. */
export interface PromotedPodsObservation {
  /** The digest dev built. */
  digest: string | undefined;
  /** `status.containerStatuses[].imageID` of the app's pods. */
  imageIds: string[];
  /** Ready replicas of the Deployment. */
  readyReplicas: number;
  /** The replicas the environment requires at least. */
  minimum: number;
  /** The Deployment declares a hostname topology spread. */
  spread: boolean;
}

/** Every pod runs dev's digest, with at least the environment's replicas Ready and spread. */
export const promotedPodsRun = defineCheck<PromotedPodsObservation>("promoted-pods-run", (o) => {
  ensure(o.digest !== undefined, "dev's digest is unknown");
  ensure(o.imageIds.length > 0, "no pods");
  const other = o.imageIds.filter((id) => !id.endsWith(`@${o.digest}`));
  ensure(other.length === 0, `pods run ${other.join(", ")}, not ${o.digest}`);
  ensure(o.readyReplicas >= o.minimum, `${o.readyReplicas} ready, at least ${o.minimum} required`);
  ensure(o.spread, "no topology spread over kubernetes.io/hostname");
  return `${o.readyReplicas} pods on ${o.digest.slice(0, 19)}`;
});

/** An HPA's status. */
export interface HpaObservation {
  /** `status.currentMetrics[].resource.current.averageUtilization` values found. */
  utilizations: number[];
  /** The `ScalingActive` condition's status. */
  scalingActive: string | undefined;
  /** Seconds polled until it read metrics (undefined when it never did). */
  seconds: number | undefined;
}

/** The HPA reads live CPU utilization from metrics-server. */
export const hpaReadsMetrics = defineCheck<HpaObservation>("hpa-reads-metrics", (o) => {
  ensure(o.seconds !== undefined, "the HPA never reported current metrics");
  ensure(o.scalingActive === "True", `ScalingActive is ${o.scalingActive ?? "missing"}`);
  ensure(o.utilizations.length > 0, "no current utilization");
  return `utilization ${o.utilizations.join(", ")}% after ${o.seconds.toFixed(0)}s`;
});

/** Two evictions in a row against an app's pods. */
export interface EvictionObservation {
  /** The first eviction (the budget allows one). */
  first: { status: number; text: string };
  /** The second, right after, while the replacement is not yet available. */
  second: { status: number; text: string };
}

/** The PDB lets one pod go and refuses the next, as the API server enforces budgets. */
export const pdbEnforced = defineCheck<EvictionObservation>("pdb-enforced", (o) => {
  ensure(o.first.status === 0, `the first eviction was refused: ${o.first.text}`);
  ensure(o.second.status !== 0, "the second eviction was allowed: the budget is not in force");
  ensure(
    /disruption budget/i.test(o.second.text),
    `the second eviction failed for another reason: ${o.second.text}`,
  );
});

/** PersistentVolumeClaims of a namespace. */
export interface ClaimsObservation {
  /** name, phase and storage class of each. */
  claims: { name: string; phase: string; storageClass: string | undefined }[];
  /** How many the stack's apps declare. */
  expected: number;
}

/** Every claim is Bound by local-path. */
export const claimsBound = defineCheck<ClaimsObservation>("claims-bound", (o) => {
  ensure(o.claims.length >= o.expected, `${o.claims.length} claims, ${o.expected} expected`);
  for (const c of o.claims) {
    ensure(c.phase === "Bound", `${c.name} is ${c.phase}`);
    ensure(c.storageClass === "local-path", `${c.name} has storage class ${c.storageClass}`);
  }
  return `${o.claims.length} bound`;
});

/** A pod in another namespace trying the app's Service, and Traefik's as a control. */
export interface NetworkPolicyObservation {
  /** The probe pod's log: one `app rc=N` and one `control rc=N` line. */
  log: string;
}

/** The app is unreachable from the other namespace while the same pod reaches Traefik. */
export const networkPolicyEnforced = defineCheck<NetworkPolicyObservation>(
  "network-policy-enforced",
  (o) => {
    const rc = (what: string) => new RegExp(`${what} rc=(\\d+)`).exec(o.log)?.[1];
    const app = rc("app");
    const control = rc("control");
    ensure(app !== undefined && control !== undefined, `probe log incomplete: ${o.log}`);
    ensure(control === "0", `the probe pod could not reach Traefik either: ${o.log}`);
    ensure(app !== "0", `the app answered a pod of another namespace: ${o.log}`);
  },
);

/** A server-side dry run of a pod loosened against the restricted profile. */
export interface AdmissionObservation {
  /** The dry run. */
  run: CommandRun;
}

/** Pod Security admission refuses it, naming the loosened field. */
export const admissionRefuses = defineCheck<AdmissionObservation>("admission-refuses", (o) => {
  ensure(o.run.status !== 0, "the loosened pod was admitted");
  ensure(
    /violates PodSecurity "restricted/.test(o.run.output) &&
      /allowPrivilegeEscalation/.test(o.run.output),
    `refused for another reason: ${tail(o.run, 400)}`,
  );
});

/** An `up` whose new pods admission refuses. */
export interface LoosenedUpObservation {
  /** The `up`. */
  run: CommandRun;
  /** The app whose pods were loosened. */
  app: string;
  /** Seconds the Deployment may take to fail: its progress deadline plus pyfleet's margin. */
  limitSeconds: number;
}

/**
 * The `up` fails, in bounded time, and its output carries admission's own refusal for the
 * app's Deployment (the rollout diagnosis), not only the provider's "not ready".
 */
export const admissionFailsUp = defineCheck<LoosenedUpObservation>("admission-fails-up", (o) => {
  ensure(o.run.status !== 0, "up succeeded although admission refuses the pods");
  ensure(
    new RegExp(`Deployment \\S+/${o.app}-\\w+ did not become ready`).test(o.run.output),
    `the output does not name ${o.app}'s Deployment: ${tail(o.run, 600)}`,
  );
  ensure(
    /the cluster refused its pods: .*violates PodSecurity "restricted.*allowPrivilegeEscalation/.test(
      o.run.output,
    ),
    `the output lacks admission's refusal: ${tail(o.run, 600)}`,
  );
  // The language host and the program add a fixed cost on top of the Deployment's wait.
  ensure(
    o.run.seconds <= o.limitSeconds + 120,
    `up took ${o.run.seconds.toFixed(0)}s, more than ${o.limitSeconds}s + 120s`,
  );
  return `failed after ${o.run.seconds.toFixed(0)}s with admission's message`;
});

/** Seconds the rollout diagnosis (three kubectl reads) may add to a failed Deployment step. */
export const DIAGNOSIS_SECONDS = 15;

/** A release whose readiness probe never passes, and the app polled while it rolls. */
export interface BrokenReleaseObservation {
  /** The `up`. */
  run: CommandRun;
  /** The Deployment's progress deadline. */
  deadlineSeconds: number;
  /** The await margin pyfleet adds to it. */
  marginSeconds: number;
  /** Seconds the provider waited on the Deployment before it failed (from the output). */
  resourceSeconds: number | undefined;
  /** Status of each poll through the Ingress during the `up`. */
  polls: number[];
}

/** The Deployment fails within the deadline plus the margin, and `up` fails naming it. */
export const brokenReleaseFails = defineCheck<BrokenReleaseObservation>(
  "broken-release-fails",
  (o) => {
    ensure(o.run.status !== 0, "up succeeded although the release never becomes ready");
    const limit = o.deadlineSeconds + o.marginSeconds;
    ensure(o.resourceSeconds !== undefined, "the output shows no wait on the Deployment");
    // The rollout diagnosis asks the cluster why after the provider gives up, inside the step.
    ensure(
      o.resourceSeconds <= limit + DIAGNOSIS_SECONDS,
      `the Deployment failed after ${o.resourceSeconds}s, more than ${limit}s + ${DIAGNOSIS_SECONDS}s`,
    );
    ensure(
      /Deployment/.test(o.run.output) &&
        /(not ready|ProgressDeadlineExceeded|Ready|failed)/.test(o.run.output),
      `the failure does not name the Deployment's rollout: ${tail(o.run, 600)}`,
    );
    return `Deployment failed after ${o.resourceSeconds}s (limit ${limit}s), up after ${o.run.seconds.toFixed(0)}s`;
  },
);

/** The previous ReplicaSet answered every poll while the broken one rolled. */
export const previousKeepsServing = defineCheck<BrokenReleaseObservation>(
  "previous-keeps-serving",
  (o) => {
    ensure(o.polls.length >= 5, `only ${o.polls.length} polls`);
    const bad = o.polls.filter((s) => s !== 200);
    ensure(
      bad.length === 0,
      `${bad.length} of ${o.polls.length} polls did not answer 200: ${bad.slice(0, 5).join(", ")}`,
    );
    return `${o.polls.length} polls, 0 non-200`;
  },
);

/** What is left of the stacks after `destroy`. */
export interface LeftoverObservation {
  /** `kind/namespace/name` of every object still labelled part-of=pyfleet (not deleting). */
  objects: string[];
  /** Namespaces of the stacks that still exist and are not terminating. */
  namespaces: string[];
  /** Resource names the destroy output marked `[retain]` (kept on purpose). */
  retained: string[];
}

/** A Kubernetes name is the resource name, or the resource name with Pulumi's random suffix. */
function namedBy(kubeName: string, resourceName: string): boolean {
  return kubeName === resourceName || new RegExp(`^${resourceName}-[0-9a-z]{8}$`).test(kubeName);
}

/** Nothing pyfleet made is left but the claims and namespaces destroy named as retained. */
export const nothingLeft = defineCheck<LeftoverObservation>("nothing-left", (o) => {
  const kept = (name: string) => o.retained.some((r) => namedBy(name, r));
  const namespaces = o.namespaces.filter((n) => !kept(n));
  ensure(namespaces.length === 0, `namespaces left: ${namespaces.join(", ")}`);
  const objects = o.objects.filter((ref) => {
    const [kind, , name] = ref.split("/");
    return !(["PersistentVolumeClaim", "Namespace"].includes(kind ?? "") && kept(name ?? ""));
  });
  ensure(objects.length === 0, `objects left: ${objects.join(", ")}`);
  return o.retained.length > 0 ? `kept on purpose: ${o.retained.join(", ")}` : "nothing kept";
});

/** The `[retain]` resources of a destroy's output. */
export function retainedBy(output: string): string[] {
  const names = new Set<string>();
  for (const m of output.matchAll(/^\s*-\s+\S+\s+(\S+) deleted \([^)]*\)\[retain\]/gm)) {
    names.add(m[1]!);
  }
  return [...names];
}

/** An `up` during which a cluster daemon was killed and restarted, and the `up` after it. */
export interface FaultObservation {
  /** The daemon killed. */
  daemon: string;
  /** The `up` it was killed during. */
  during: CommandRun;
  /** The next `up`, once the daemon was back. */
  after: CommandRun;
  /** `pulumi stack export` after both. */
  state: string;
}

/** The `up` during the fault completed or failed naming the cluster, and the next converged. */
export const faultRecovered = defineCheck<FaultObservation>("fault-recovered", (o) => {
  ensure(
    !/\[harness\] .* exceeded \d+s and was stopped/.test(o.during.output),
    `the up during the ${o.daemon} fault hung until the harness stopped it`,
  );
  if (o.during.status !== 0) {
    ensure(
      /(connection refused|connection reset|EOF|dial tcp|timed out|unable to|failed to fully initialize|the server is currently unable)/i.test(
        o.during.output,
      ),
      `the up during the ${o.daemon} fault failed without naming the cluster: ${tail(o.during, 600)}`,
    );
    ensure(
      !/\n\s+at .+\(.+:\d+:\d+\)/.test(o.during.output),
      `the up during the ${o.daemon} fault printed a stack trace: ${tail(o.during, 600)}`,
    );
  }
  ensure(o.after.status === 0, `the up after the ${o.daemon} fault failed: ${tail(o.after, 800)}`);
  let pending: unknown[];
  try {
    pending =
      (JSON.parse(o.state) as { deployment?: { pending_operations?: unknown[] } }).deployment
        ?.pending_operations ?? [];
  } catch {
    throw new Error(`the state export is not JSON: ${o.state.slice(0, 200) || "(empty)"}`);
  }
  ensure(pending.length === 0, `${pending.length} pending operations left in the state`);
  return o.during.status === 0
    ? "the up rode through it"
    : "the up failed clearly; the next converged";
});

/** A plain `pulumi up` (the CLI and the language host, no Automation API) after the same one. */
export interface PlainUpObservation {
  /** The command. */
  run: CommandRun;
}

/** It ran the program and found nothing to change: both ways of running it agree. */
export const plainUpAgrees = defineCheck<PlainUpObservation>("plain-up-agrees", (o) => {
  ensure(o.run.status === 0, `plain pulumi up failed: ${tail(o.run, 1500)}`);
  const changed = /^\s*[+~-]+\s*\d+ (created|updated|deleted|replaced)/m.exec(o.run.output);
  ensure(changed === null, `plain pulumi up changed resources: ${changed?.[0].trim()}`);
  const unchanged = /(\d+) unchanged/.exec(o.run.output);
  ensure(unchanged !== null, `no resource summary in the output: ${tail(o.run, 600)}`);
  return `${unchanged[1]} unchanged`;
});

/** A server-side dry run of every object a stack renders, on the real API server. */
export interface DryRunObservation {
  /** The stack. */
  stack: string;
  /** The render. */
  render: CommandRun;
  /** Objects in the rendered file. */
  documents: number;
  /** `kubectl apply --server-side --dry-run=server` of the file. */
  run: CommandRun;
}

/** The API server accepted every object (none refused, none skipped). */
export const serverAcceptsAll = defineCheck<DryRunObservation>("server-accepts-all", (o) => {
  ensure(o.render.status === 0, `${o.stack} did not render: ${tail(o.render, 800)}`);
  ensure(o.documents > 0, `${o.stack} rendered no objects`);
  ensure(o.run.status === 0, `the API server refused objects of ${o.stack}: ${tail(o.run, 1500)}`);
  const accepted = o.run.output.split("\n").filter((l) => /\(server dry run\)/.test(l)).length;
  ensure(
    accepted === o.documents,
    `the API server accepted ${accepted} of ${o.documents} objects of ${o.stack}`,
  );
  return `${accepted} objects`;
});

/** A preview of a stack right after its `up`, run from a shell without the engine's variables. */
export interface BarePreviewObservation {
  /** The `preview --json`. */
  run: CommandRun;
  /** Its change counts by operation. */
  changes: Record<string, number>;
}

/** The settings alone lead every command to the same engine: nothing to change. */
export const previewPlansNothing = defineCheck<BarePreviewObservation>(
  "preview-plans-nothing",
  (o) => {
    ensure(o.run.status === 0, `preview failed: ${tail(o.run, 1200)}`);
    const changed = Object.entries(o.changes).filter(([op, n]) => op !== "same" && n > 0);
    ensure(
      changed.length === 0,
      `preview plans ${changed.map(([op, n]) => `${n} ${op}`).join(", ")}`,
    );
    ensure((o.changes["same"] ?? 0) > 0, "preview reports no resources at all");
    return `${o.changes["same"]} unchanged`;
  },
);

/**
 * The whole flow against the local k3s-shaped cluster (infra/cluster.sh), every stack in
 * cluster mode: dev's `up` waits for its rollouts through the kubernetes provider's own
 * await, staging and prod run dev's digests with their HPA, PDB and claims working,
 * NetworkPolicy and Pod Security admission are enforced by the real cluster, a broken
 * release fails while the previous one keeps serving, and destroy leaves nothing behind.
 */
import { appendFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { ROOT, writeOverlayConfig } from "../../../infra/localEnv";
import { DEFAULT_UID, AWAIT_MARGIN_SECONDS } from "../../../stacks/environments";
import { minimumReplicas } from "../../../policy/vocabulary";
import {
  admissionFailsUp,
  admissionRefuses,
  answers200,
  brokenReleaseFails,
  claimsBound,
  commandSucceeds,
  faultRecovered,
  hpaReadsMetrics,
  networkPolicyEnforced,
  nothingLeft,
  pdbEnforced,
  plainUpAgrees,
  previewPlansNothing,
  podHardened,
  previousKeepsServing,
  promotedPodsRun,
  retainedBy,
  serverAcceptsAll,
  rolloutReady,
  type CommandRun,
  type RolloutObservation,
} from "../checks";
import { e2eNamespace, type Context, type Scenario } from "../lib/context";
// A cycle, used only at run time: the gates scenario reads the cluster through these helpers.
import { clusterGates } from "./clusterGates";
import { pollWhile, type Kube, type KubeObject } from "../lib/kube";
import { Pulumi, planOf } from "../lib/pulumi";
import { waitFor, type Finished } from "../lib/processes";

const STACKS = ["dev", "staging", "prod"] as const;
type Stack = (typeof STACKS)[number];

/** The namespace each stack deploys to in this pass. */
function namespaceOf(stack: Stack): string {
  return e2eNamespace(stack);
}

export function kubeOf(ctx: Context): Kube {
  if (!ctx.cluster) throw new Error("the cluster scenarios need a context with a cluster");
  return ctx.cluster.kube;
}

/** Reads a nested field of a loosely typed object. */
export function field<T>(obj: unknown, ...keys: (string | number)[]): T | undefined {
  let cur: unknown = obj;
  for (const k of keys) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur as T | undefined;
}

export async function deploymentOf(
  kube: Kube,
  stack: Stack,
  app: string,
): Promise<KubeObject | undefined> {
  const [d] = await kube.list("deployments", namespaceOf(stack), `app.kubernetes.io/name=${app}`);
  return d;
}

/** The app's live pods (not terminating). */
async function podsOf(kube: Kube, stack: Stack, app: string): Promise<KubeObject[]> {
  const pods = await kube.list("pods", namespaceOf(stack), `app.kubernetes.io/name=${app}`);
  return pods.filter((p) => p.metadata.deletionTimestamp === undefined);
}

const REVISION = "deployment.kubernetes.io/revision";

/** The Deployment's status and the pods of its current ReplicaSet (its latest revision). */
async function rolloutOf(kube: Kube, stack: Stack, app: string): Promise<RolloutObservation> {
  const d = await deploymentOf(kube, stack, app);
  const revision = field<string>(d, "metadata", "annotations", REVISION);
  const sets = await kube.list("replicasets", namespaceOf(stack), `app.kubernetes.io/name=${app}`);
  const current = sets.find(
    (rs) => field<string>(rs, "metadata", "annotations", REVISION) === revision,
  );
  const hash = current?.metadata.labels?.["pod-template-hash"];
  const pods = (await podsOf(kube, stack, app)).filter(
    (p) => hash !== undefined && p.metadata.labels?.["pod-template-hash"] === hash,
  );
  return {
    replicas: field<number>(d, "spec", "replicas") ?? 0,
    readyReplicas: field<number>(d, "status", "readyReplicas") ?? 0,
    updatedReplicas: field<number>(d, "status", "updatedReplicas") ?? 0,
    observed:
      d !== undefined && field<number>(d, "status", "observedGeneration") === d.metadata.generation,
    pods: pods.map((p) => {
      const cs = field<Record<string, unknown>[]>(p, "status", "containerStatuses") ?? [];
      return {
        name: p.metadata.name,
        ready: cs.length > 0 && cs.every((c) => c["ready"] === true),
        started: cs.length > 0 && cs.every((c) => c["started"] === true),
        restarts: cs.reduce((n, c) => n + Number(c["restartCount"] ?? 0), 0),
      };
    }),
  };
}

/** The app's readiness path and Service name, from what the cluster holds. */
async function endpointsOf(
  kube: Kube,
  stack: Stack,
  app: string,
): Promise<{ path: string; service: string | undefined }> {
  const d = await deploymentOf(kube, stack, app);
  const path =
    field<string>(
      d,
      "spec",
      "template",
      "spec",
      "containers",
      0,
      "readinessProbe",
      "httpGet",
      "path",
    ) ?? "/";
  const [svc] = await kube.list("services", namespaceOf(stack), `app.kubernetes.io/name=${app}`);
  return { path, service: svc?.metadata.name };
}

function hostOf(url: string | undefined): string {
  return url ? new URL(url).host : "";
}

/** Seconds the provider took to create or update each Deployment, from the `up` output. */
function timeToReady(output: string, app: string): number | undefined {
  const m = new RegExp(`Deployment ${app} (?:created|updated) \\((\\d+(?:\\.\\d+)?)s\\)`).exec(
    output,
  );
  return m ? Number(m[1]) : undefined;
}

/**
 * A dev config file `name` in the run's config folder: dev's pip-only settings with vectors'
 * override and the stack's rollout settings changed as given.
 */
function devVariant(
  ctx: Context,
  name: string,
  vectors: Record<string, unknown>,
  progressDeadlineSeconds: number,
): string {
  const file = path.join(ctx.work, "config", `${name}.yaml`);
  const base = (
    parseYaml(readFileSync(ctx.config.dev, "utf8")) as { config: Record<string, unknown> }
  ).config;
  const apps = (base["pyfleet:apps"] ?? {}) as Record<string, Record<string, unknown>>;
  writeOverlayConfig(
    "dev",
    file,
    {
      ...base,
      "pyfleet:apps": { ...apps, vectors: { ...(apps["vectors"] ?? {}), ...vectors } },
      "pyfleet:rollout": { progressDeadlineSeconds },
    },
    ctx.project,
  );
  return file;
}

/** A finished process as the checks see a command. */
function asCommand(f: Finished): CommandRun {
  return { status: f.status, stdout: f.stdout, output: f.stdout + f.stderr, seconds: f.seconds };
}

/** `up` of dev on the cluster: Ready, answering, hardened. */
export const clusterUpDev: Scenario = {
  name: "cluster up dev",
  async run(ctx) {
    const kube = kubeOf(ctx);
    const run = await ctx.pulumi.up("cluster up dev", "dev", ctx.config.dev);
    ctx.recorder.figure("cluster_up_dev_seconds", Number(run.seconds.toFixed(1)));
    ctx.recorder.check(
      commandSucceeds,
      "cluster: pulumi up of dev waits for every rollout and succeeds",
      {
        what: "up dev on the cluster",
        run,
      },
    );
    ctx.facts.devApps = run.status === 0 ? await ctx.pulumi.apps("dev", ctx.config.dev) : {};
    const namespace = await kube.get("namespace", namespaceOf("dev"));
    for (const app of ctx.apps) {
      const ready = timeToReady(run.output, app);
      if (ready !== undefined) ctx.recorder.figure(`cluster_ready_seconds_${app}`, ready);
      ctx.recorder.check(
        rolloutReady,
        `cluster dev: ${app} is Ready, its probes passing`,
        await rolloutOf(kube, "dev", app),
      );
      const { path: health, service } = await endpointsOf(kube, "dev", app);
      const host = hostOf(ctx.facts.devApps[app]?.url);
      const viaIngress = await kube.viaIngress(host, health);
      ctx.recorder.check(answers200, `cluster dev: ${app} answers through its Ingress`, {
        via: `ingress ${host}${health}`,
        ...viaIngress,
      });
      const viaService = service
        ? await kube.viaService(namespaceOf("dev"), service, "http", health)
        : { status: 0, text: "no Service" };
      ctx.recorder.check(answers200, `cluster dev: ${app} answers through its Service`, {
        via: `service ${service ?? "?"}`,
        ...viaService,
      });
      const [pod] = await podsOf(kube, "dev", app);
      const exec = pod
        ? await kube.kubectl([
            "exec",
            "-n",
            namespaceOf("dev"),
            pod.metadata.name,
            "--",
            "sh",
            "-c",
            "id -u; if touch /.pyfleet-write-probe 2>/dev/null; then echo writable; else echo read-only; fi",
          ])
        : { status: 1, stdout: "no pod", stderr: "", seconds: 0 };
      ctx.recorder.check(
        podHardened,
        `cluster dev: ${app} runs as uid ${DEFAULT_UID} on a read-only root, admitted as restricted`,
        {
          namespaceLabels: namespace?.metadata.labels ?? {},
          imageUid: DEFAULT_UID,
          securityContext: field(pod, "spec", "containers", 0, "securityContext") ?? {},
          exec: { status: exec.status, stdout: exec.stdout || exec.stderr },
        },
      );
    }
  },
};

/**
 * `pulumi up` as users type it: the CLI runs index.ts through the Node.js language host
 * (infra/language-host.sh), with no Automation API around it. Right after the same `up`
 * through cli/pulumi.ts, it must find nothing to change.
 */
export const clusterPlainUp: Scenario = {
  name: "cluster plain up",
  async run(ctx) {
    const run = await plainPulumi(
      ctx,
      ["up", "--stack", "dev", "--yes", "--skip-preview"],
      ctx.config.dev,
    );
    ctx.recorder.check(
      plainUpAgrees,
      "cluster dev: a plain `pulumi up` (CLI and language host) agrees",
      {
        run,
      },
    );
  },
};

/**
 * `pulumi <args>` with the CLI on the project copy, through the Node.js language host
 * (built once by infra/language-host.sh), as users type it.
 */
async function plainPulumi(ctx: Context, args: string[], configFile: string): Promise<CommandRun> {
  const host = await ctx.processes.run("bash", [path.join(ROOT, "infra", "language-host.sh")], {
    env: ctx.env,
    timeoutSeconds: 900,
  });
  const hostBin = host.stdout.trim().split("\n").pop() ?? "";
  const bin = ctx.env["PYFLEET_PULUMI_BIN"] ?? "";
  const result = await ctx.processes.run(
    path.join(bin, "pulumi"),
    [...args, "--non-interactive", "--config-file", configFile, "--cwd", ctx.project],
    // infra/bin holds the dynamic-resource plugin (pulumi-resource-pulumi-nodejs) as well.
    {
      env: {
        ...ctx.env,
        PATH: `${hostBin}:${path.join(ROOT, "infra", "bin")}:${ctx.env["PATH"] ?? ""}`,
      },
    },
  );
  appendFileSync(
    path.join(ctx.reports, "pulumi.log"),
    `\n===== plain: pulumi ${args.join(" ")} (exit ${result.status})\n${result.stdout}\n${result.stderr}`,
  );
  return {
    status: host.status === 0 ? result.status : host.status,
    stdout: result.stdout,
    output: host.status === 0 ? result.stdout + result.stderr : host.stderr,
    seconds: result.seconds,
  };
}

/**
 * `npm run preview -- dev` from a shell that holds none of the engine's variables (no
 * DOCKER_HOST, no DOCKER_CONFIG), right after dev's `up`: the stack's settings alone must lead
 * it to the same engine and builder, so it plans nothing.
 */
export const clusterBarePreview: Scenario = {
  name: "cluster bare preview",
  async run(ctx) {
    const env = { ...ctx.env };
    delete env["DOCKER_HOST"];
    delete env["DOCKER_CONFIG"];
    const bare = new Pulumi({
      project: ctx.project,
      env,
      bin: ctx.env["PYFLEET_PULUMI_BIN"] ?? "",
      log: path.join(ctx.reports, "pulumi.log"),
      processes: ctx.processes,
    });
    const run = await bare.run("cluster bare preview", [
      "preview",
      "dev",
      "--json",
      "--config-file",
      ctx.config.dev,
    ]);
    ctx.recorder.check(
      previewPlansNothing,
      "cluster dev: a preview from a shell without DOCKER_HOST/DOCKER_CONFIG plans no change",
      { run, changes: run.status === 0 ? (planOf(run).changes as Record<string, number>) : {} },
    );
  },
};

/** Two evictions of `app`'s pods in `stack`, the second right after the first. */
async function evictTwice(kube: Kube, stack: Stack, app: string) {
  const pods = await podsOf(kube, stack, app);
  const evict = async (pod: KubeObject | undefined) => {
    if (!pod) return { status: 1, text: "no pod to evict" };
    const body = JSON.stringify({
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: { name: pod.metadata.name, namespace: namespaceOf(stack) },
    });
    const run = await kube.kubectl(
      [
        "create",
        "--raw",
        `/api/v1/namespaces/${namespaceOf(stack)}/pods/${pod.metadata.name}/eviction`,
        "-f",
        "-",
      ],
      60,
      body,
    );
    return { status: run.status, text: (run.stderr || run.stdout).trim() };
  };
  const first = await evict(pods[0]);
  const second = await evict(pods[1]);
  return { first, second };
}

/** staging and prod on the cluster: dev's digests, replicas, HPA, PDB and claims. */
export const clusterPromotion: Scenario = {
  name: "cluster promotion",
  async run(ctx) {
    const kube = kubeOf(ctx);
    for (const stack of ["staging", "prod"] as const) {
      const config = ctx.promoteConfig(stack);
      const run = await ctx.pulumi.up(`cluster up ${stack}`, stack, config);
      ctx.recorder.figure(`cluster_up_${stack}_seconds`, Number(run.seconds.toFixed(1)));
      ctx.recorder.check(commandSucceeds, `cluster: pulumi up of ${stack} promotes and succeeds`, {
        what: `up ${stack} on the cluster`,
        run,
      });
      for (const app of ctx.apps) {
        const d = await deploymentOf(kube, stack, app);
        const pods = await podsOf(kube, stack, app);
        ctx.recorder.check(
          promotedPodsRun,
          `cluster ${stack}: ${app} runs dev's digest, replicated and spread`,
          {
            digest: ctx.facts.devApps[app]?.digest,
            imageIds: pods.flatMap((p) =>
              (field<{ imageID?: string }[]>(p, "status", "containerStatuses") ?? []).map(
                (c) => c.imageID ?? "",
              ),
            ),
            readyReplicas: field<number>(d, "status", "readyReplicas") ?? 0,
            minimum: minimumReplicas(stack),
            spread: (
              field<{ topologyKey?: string }[]>(
                d,
                "spec",
                "template",
                "spec",
                "topologySpreadConstraints",
              ) ?? []
            ).some((c) => c.topologyKey === "kubernetes.io/hostname"),
          },
        );
      }
      const claims = await kube.list("persistentvolumeclaims", namespaceOf(stack));
      ctx.recorder.check(claimsBound, `cluster ${stack}: every claim is Bound by local-path`, {
        claims: claims.map((c) => ({
          name: c.metadata.name,
          phase: field<string>(c, "status", "phase") ?? "unknown",
          storageClass: field<string>(c, "spec", "storageClassName"),
        })),
        expected: 1,
      });
    }
    // prod autoscales: its HPAs read CPU utilization once metrics-server has scraped every pod.
    const scalingActive = (h: KubeObject) =>
      (field<{ type: string; status: string }[]>(h, "status", "conditions") ?? []).find(
        (c) => c.type === "ScalingActive",
      )?.status;
    const metricsOf = (h: KubeObject) => field<unknown[]>(h, "status", "currentMetrics") ?? [];
    let hpas: KubeObject[] = [];
    const seconds = await waitFor(
      async () => {
        hpas = await kube.list("horizontalpodautoscalers", namespaceOf("prod"));
        return (
          hpas.length > 0 &&
          hpas.every((h) => metricsOf(h).length > 0 && scalingActive(h) === "True")
        );
      },
      240,
      5000,
    );
    ctx.recorder.check(
      hpaReadsMetrics,
      "cluster prod: the HPAs read CPU utilization from metrics-server",
      {
        utilizations: hpas
          .flatMap((h) =>
            metricsOf(h).map(
              (m) => field<number>(m, "resource", "current", "averageUtilization") ?? NaN,
            ),
          )
          .filter((n) => !Number.isNaN(n)),
        scalingActive: hpas.map(scalingActive).find((s) => s !== "True") ?? scalingActive(hpas[0]!),
        seconds,
      },
    );
    ctx.recorder.check(
      pdbEnforced,
      "cluster staging: the PDB lets one vectors pod be evicted and refuses the next",
      await evictTwice(kube, "staging", "vectors"),
    );
  },
};

/**
 * Every object of every stack, conda app included, rendered offline and sent to the real API
 * server as a server-side dry run, into the namespaces the stacks created: anything the
 * settings accept but the API server refuses fails here.
 */
export const clusterDryRun: Scenario = {
  name: "cluster dry run",
  async run(ctx) {
    const kube = kubeOf(ctx);
    for (const stack of STACKS) {
      const file = path.join(ctx.work, "config", `render-${stack}.yaml`);
      writeOverlayConfig(
        stack,
        file,
        {
          "pyfleet:registry": `${ctx.local.registryName}/pyfleet`,
          "pyfleet:namespace": namespaceOf(stack),
        },
        ctx.project,
      );
      const render = await ctx.processes.run(
        process.execPath,
        [
          "-r",
          "ts-node/register/transpile-only",
          path.join(ctx.project, "cli", "render.ts"),
          stack,
          "--config-file",
          file,
        ],
        { cwd: ctx.project, env: ctx.env },
      );
      const manifests = path.join(ctx.project, "rendered", stack, "manifests.yaml");
      const text = render.status === 0 ? readFileSync(manifests, "utf8") : "";
      const documents = text.split(/^---$/m).filter((d) => d.trim().length > 0).length;
      const run = await kube.kubectl(
        [
          "apply",
          "--server-side",
          "--dry-run=server",
          "--force-conflicts",
          "--field-manager=pyfleet-dry-run",
          "-f",
          manifests,
        ],
        120,
      );
      ctx.recorder.check(
        serverAcceptsAll,
        `cluster: the API server accepts every object ${stack} renders`,
        {
          stack,
          render: asCommand(render),
          documents,
          run: asCommand(run),
        },
      );
    }
  },
};

/** NetworkPolicy by kube-router and Pod Security admission, on dev's namespace. */
export const clusterEnforcement: Scenario = {
  name: "cluster enforcement",
  async run(ctx) {
    const kube = kubeOf(ctx);
    const busybox = ctx.cluster!.local.busybox;
    const probeNs = "pyfleet-e2e-probe";
    const { path: health, service } = await endpointsOf(kube, "dev", "vectors");
    const host = hostOf(ctx.facts.devApps["vectors"]?.url);
    await kube.kubectl(["create", "namespace", probeNs]);
    // busybox's own `wget -T` crashes in Debian's build; `timeout` bounds each try instead.
    const script =
      `busybox timeout 5 wget -q -O /dev/null http://${service}.${namespaceOf("dev")}.svc.cluster.local${health}; echo "app rc=$?"; ` +
      `busybox timeout 5 wget -q -O /dev/null --header "Host: ${host}" http://traefik.kube-system.svc.cluster.local${health}; echo "control rc=$?"`;
    await kube.kubectl([
      "run",
      "probe",
      "-n",
      probeNs,
      `--image=${busybox}`,
      "--image-pull-policy=Never",
      "--restart=Never",
      "--command",
      "--",
      "sh",
      "-c",
      script,
    ]);
    await kube.kubectl(
      [
        "wait",
        "-n",
        probeNs,
        "pod/probe",
        "--for=jsonpath={.status.phase}=Succeeded",
        "--timeout=90s",
      ],
      120,
    );
    const logs = await kube.kubectl(["logs", "-n", probeNs, "probe"]);
    ctx.recorder.check(
      networkPolicyEnforced,
      "cluster dev: a pod of another namespace cannot reach vectors; Traefik can",
      {
        log: logs.stdout + logs.stderr,
      },
    );
    await kube.kubectl(["delete", "namespace", probeNs, "--wait=false"]);

    const [pod] = await podsOf(kube, "dev", "vectors");
    const loosened = pod && {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "loosened", namespace: namespaceOf("dev") },
      spec: {
        ...(pod.spec ?? {}),
        nodeName: undefined,
        containers: (field<Record<string, unknown>[]>(pod, "spec", "containers") ?? []).map(
          (c) => ({
            ...c,
            securityContext: {
              ...((c["securityContext"] as Record<string, unknown> | undefined) ?? {}),
              allowPrivilegeEscalation: true,
            },
          }),
        ),
      },
    };
    const dry = await kube.kubectl(
      ["apply", "--dry-run=server", "-f", "-"],
      60,
      JSON.stringify(loosened ?? {}),
    );
    ctx.recorder.check(
      admissionRefuses,
      "cluster dev: admission refuses a pod loosened against restricted",
      {
        run: asCommand(dry),
      },
    );
  },
};

/** A release of vectors that never gets Ready, polled through its Ingress while it rolls. */
export const clusterBrokenRelease: Scenario = {
  name: "cluster broken release",
  async run(ctx) {
    const kube = kubeOf(ctx);
    const deadlineSeconds = 60;
    const broken = devVariant(
      ctx,
      "broken",
      { health: { readinessPath: "/not-a-route" } },
      deadlineSeconds,
    );
    const { path: health } = await endpointsOf(kube, "dev", "vectors");
    const host = hostOf(ctx.facts.devApps["vectors"]?.url);
    let finished = false;
    const limit = deadlineSeconds + AWAIT_MARGIN_SECONDS;
    const polling = pollWhile(
      () => kube.viaIngress(host, health, 3000),
      () => finished,
      500,
      (limit + 120) * 2,
    );
    const run = await ctx.pulumi.up("cluster broken release", "dev", broken);
    finished = true;
    const polls = (await polling).map((a) => a.status);
    ctx.recorder.figure("cluster_broken_release_fail_seconds", Number(run.seconds.toFixed(1)));
    ctx.recorder.figure("cluster_broken_release_non200", polls.filter((s) => s !== 200).length);
    const waited = [...run.output.matchAll(/Deployment vectors updating \((\d+)s\)/g)].map((m) =>
      Number(m[1]),
    );
    const observation = {
      run,
      deadlineSeconds,
      marginSeconds: AWAIT_MARGIN_SECONDS,
      resourceSeconds: waited.length > 0 ? Math.max(...waited) : undefined,
      polls,
    };
    ctx.recorder.check(
      brokenReleaseFails,
      "cluster dev: up of a release that never gets Ready fails in time",
      observation,
    );
    ctx.recorder.check(
      previousKeepsServing,
      "cluster dev: the previous ReplicaSet answers 200 throughout",
      observation,
    );
    const fixed = await ctx.pulumi.up("cluster fixed release", "dev", ctx.config.dev);
    ctx.recorder.check(commandSucceeds, "cluster dev: up of the fixed release converges", {
      what: "up after the fix",
      run: fixed,
    });
    ctx.recorder.check(
      rolloutReady,
      "cluster dev: vectors is Ready again after the fix",
      await rolloutOf(kube, "dev", "vectors"),
    );
  },
};

/** The wrapper program's entry, written into the project copy for the one run. */
const LOOSENED_MAIN = "loosened-main.ts";

/**
 * A user's program around pyfleet's loosens dashboard's pods against restricted
 * (test/e2e/fixtures/loosened.ts, a stack transform), run as Pulumi.yaml's `main` by
 * `npm run up` (validate checks pyfleet's own program, which the transform is not part of).
 * The `up` reaches the cluster; admission refuses the new pods, and the `up` fails naming the
 * refusal (the Deployments' rollout diagnosis) while the previous pods keep serving. `up` of
 * pyfleet's own program then converges.
 */
export const clusterLoosenedPods: Scenario = {
  name: "cluster loosened pods",
  async run(ctx) {
    const kube = kubeOf(ctx);
    const deadlineSeconds = 60;
    const config = devVariant(ctx, "loosened", {}, deadlineSeconds);
    const { path: health } = await endpointsOf(kube, "dev", "dashboard");
    const host = hostOf(ctx.facts.devApps["dashboard"]?.url);
    const project = path.join(ctx.project, "Pulumi.yaml");
    const original = readFileSync(project, "utf8");
    let finished = false;
    const limit = deadlineSeconds + AWAIT_MARGIN_SECONDS;
    const polling = pollWhile(
      () => kube.viaIngress(host, health, 3000),
      () => finished,
      500,
      (limit + 120) * 2,
    );
    let run: CommandRun;
    try {
      // `main` sits in the project root: the engine runs the providers from main's folder,
      // and the staged build contexts are paths relative to the project root.
      writeFileSync(
        path.join(ctx.project, LOOSENED_MAIN),
        'import loosened from "./test/e2e/fixtures/loosened";\nexport = loosened;\n',
      );
      writeFileSync(project, `${original.trimEnd()}\nmain: ${LOOSENED_MAIN}\n`);
      run = await ctx.pulumi.up("cluster loosened pods", "dev", config);
    } finally {
      writeFileSync(project, original);
      rmSync(path.join(ctx.project, LOOSENED_MAIN), { force: true });
      finished = true;
    }
    const polls = (await polling).map((a) => a.status);
    ctx.recorder.figure("cluster_loosened_fail_seconds", Number(run.seconds.toFixed(1)));
    ctx.recorder.check(
      admissionFailsUp,
      "cluster dev: up of pods loosened against restricted fails with admission's refusal",
      { run, app: "dashboard", limitSeconds: limit },
    );
    ctx.recorder.check(
      previousKeepsServing,
      "cluster dev: dashboard's previous pods answer 200 while the loosened ones are refused",
      {
        run,
        deadlineSeconds,
        marginSeconds: AWAIT_MARGIN_SECONDS,
        resourceSeconds: undefined,
        polls,
      },
    );
    const fixed = await ctx.pulumi.up("cluster after loosened pods", "dev", ctx.config.dev);
    ctx.recorder.check(commandSucceeds, "cluster dev: up of pyfleet's own program converges", {
      what: "up after the loosened pods",
      run: fixed,
    });
    ctx.recorder.check(
      rolloutReady,
      "cluster dev: dashboard is Ready again",
      await rolloutOf(kube, "dev", "dashboard"),
    );
  },
};

/**
 * A dev config that rolls vectors out again (a new config value gives it a new ConfigMap)
 * with a short progress deadline, so a fault scenario's `up` is bounded.
 */
function rolloutConfig(ctx: Context, run: number): string {
  return devVariant(
    ctx,
    `fault-${run}`,
    { config: { VECTORS_DATA_DIR: "/data", E2E_FAULT_RUN: String(run) } },
    60,
  );
}

/**
 * Kills `daemon` (SIGKILL, by the pid the cluster script recorded) once `up` has started
 * rolling vectors out; brings it back after `downSeconds`; then runs `up` again. The `up`
 * during the fault is stopped after 600 s: one that runs that long has hung.
 */
async function upThroughFault(ctx: Context, daemon: string, run: number, downSeconds: number) {
  const kube = kubeOf(ctx);
  const cluster = ctx.cluster!.local;
  const file = rolloutConfig(ctx, run);
  const before = (await deploymentOf(kube, "dev", "vectors"))?.metadata.generation ?? 0;
  const during = ctx.pulumi.up(`cluster up during ${daemon} fault`, "dev", file, 600);
  let ended = false;
  void during.then(() => (ended = true));
  const rolling = await waitFor(
    async () =>
      ended || ((await deploymentOf(kube, "dev", "vectors"))?.metadata.generation ?? 0) > before,
    120,
    500,
  );
  const pid = cluster.daemonPid(daemon);
  if (rolling === undefined || ended || pid === undefined) {
    throw new Error(
      `could not kill ${daemon} during the rollout (rolling: ${rolling}, ended: ${ended}, pid: ${pid})`,
    );
  }
  process.kill(pid, "SIGKILL");
  await Promise.race([during, new Promise((r) => setTimeout(r, downSeconds * 1000))]);
  cluster.restore();
  const duringRun = await during;
  const after = await ctx.pulumi.up(`cluster up after ${daemon} fault`, "dev", file);
  return { daemon, during: duringRun, after, state: await ctx.pulumi.exportState("dev") };
}

/** The kubelet dies during a rollout and comes back; the apiserver stops mid-up. */
export const clusterFaults: Scenario = {
  name: "cluster faults",
  async run(ctx) {
    const kubelet = await upThroughFault(ctx, "kubelet", 1, 15);
    ctx.recorder.figure("cluster_fault_kubelet_up_status", kubelet.during.status);
    ctx.recorder.check(
      faultRecovered,
      "cluster dev: kubelet killed during a rollout; up completes or fails clearly, the next converges",
      kubelet,
    );
    ctx.recorder.check(
      rolloutReady,
      "cluster dev: vectors is Ready after the kubelet fault",
      await rolloutOf(kubeOf(ctx), "dev", "vectors"),
    );
    // Down past the Deployment's await (deadline 60 s + margin 60 s), then back: left down
    // for good, the provider was once seen retrying for more than 8 minutes.
    const apiserver = await upThroughFault(ctx, "kube-apiserver", 2, 150);
    ctx.recorder.figure(
      "cluster_fault_apiserver_up_seconds",
      Number(apiserver.during.seconds.toFixed(1)),
    );
    ctx.recorder.check(
      faultRecovered,
      "cluster dev: apiserver down for up to 150 s mid-up; up completes or fails clearly, the state stays intact, the next converges",
      apiserver,
    );
    ctx.recorder.check(
      rolloutReady,
      "cluster dev: vectors is Ready after the apiserver fault",
      await rolloutOf(kubeOf(ctx), "dev", "vectors"),
    );
  },
};

/** Destroys prod, staging and dev; nothing labelled part-of=pyfleet is left. */
export const clusterDestroy: Scenario = {
  name: "cluster destroy",
  async run(ctx) {
    const kube = kubeOf(ctx);
    const retained: string[] = [];
    for (const stack of ["prod", "staging", "dev"] as const) {
      const config = stack === "dev" ? ctx.config.dev : ctx.promoteConfig(stack);
      const run = await ctx.pulumi.run(`cluster destroy ${stack}`, [
        "destroy",
        stack,
        "--yes",
        "--config-file",
        config,
      ]);
      ctx.recorder.check(commandSucceeds, `cluster: pulumi destroy ${stack}`, {
        what: `destroy ${stack}`,
        run,
      });
      retained.push(...retainedBy(run.output));
    }
    const ours = STACKS.map(namespaceOf);
    const live = async () =>
      (await kube.list("namespaces"))
        .filter((n) => ours.includes(n.metadata.name) && n.metadata.deletionTimestamp === undefined)
        .map((n) => n.metadata.name);
    const keptNamespaces = ours.filter((n) => retained.includes(n));
    await waitFor(async () => (await live()).every((n) => keptNamespaces.includes(n)), 180, 2000);
    const kinds =
      "deployments,services,ingresses,networkpolicies,poddisruptionbudgets,horizontalpodautoscalers,configmaps,secrets,serviceaccounts,persistentvolumeclaims,pods";
    // This pass's namespaces only: the cluster may run other deployments of pyfleet.
    const left = (
      await Promise.all(ours.map((n) => kube.list(kinds, n, "app.kubernetes.io/part-of=pyfleet")))
    ).flat();
    const volumes = (await kube.list("persistentvolumes")).filter((pv) =>
      ours.includes(field<string>(pv, "spec", "claimRef", "namespace") ?? ""),
    );
    const namespaces = await live();
    ctx.recorder.check(
      nothingLeft,
      "cluster: destroy leaves no pyfleet object behind but the claims it keeps",
      {
        namespaces,
        objects: [
          ...left.map((o) => `${o.kind ?? "?"}/${o.metadata.namespace ?? "-"}/${o.metadata.name}`),
          // A volume outlives destroy only with its claim, in a namespace destroy kept.
          ...volumes
            .filter(
              (pv) =>
                !namespaces.includes(field<string>(pv, "spec", "claimRef", "namespace") ?? ""),
            )
            .map((pv) => `PersistentVolume/-/${pv.metadata.name}`),
        ],
        retained,
      },
    );
    // The kept claims were the point of the check; the run leaves the cluster as it found it.
    for (const n of namespaces) await kube.kubectl(["delete", "namespace", n, "--wait=false"]);
  },
};

/** The cluster scenarios, in running order. */
export const CLUSTER_SCENARIOS: readonly Scenario[] = [
  clusterUpDev,
  clusterPlainUp,
  clusterBarePreview,
  clusterPromotion,
  clusterGates,
  clusterDryRun,
  clusterEnforcement,
  clusterBrokenRelease,
  clusterLoosenedPods,
  clusterFaults,
  clusterDestroy,
];

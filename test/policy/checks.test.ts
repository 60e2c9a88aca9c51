/**
 * Every check of the policy pack on hand-built objects: a compliant object passes, and each
 * failing case asserts the exact message.
 */
import { describe, expect, it } from "vitest";
import {
  checkConfigMapKeys,
  checkHpaMinReplicas,
  checkIngress,
  checkNamespacePodSecurity,
  checkNetworkPolicy,
  checkPodDisruptionBudget,
  checkServiceType,
} from "../../policy/companions";
import { checkNamespace, checkSkipAwait } from "../../policy/cluster";
import {
  checkBuildArgs,
  checkImageDigest,
  checkPullPolicy,
  checkRegistry,
  isAllowedRegistry,
  parseImage,
} from "../../policy/images";
import { appliesTo } from "../../policy/framework";
import { resourcePolicies } from "../../policy/policies";
import type { Resource } from "../../policy/resource";
import { checkAutoscaledReplicas, checkDefaultDeny } from "../../policy/stack";
import { UNKNOWN } from "../../policy/values";
import { checkEnvSecrets, checkServiceAccount } from "../../policy/identity";
import { checkLabels } from "../../policy/labels";
import {
  checkCapabilities,
  checkHostAccess,
  checkPrivilegeEscalation,
  checkPrivileged,
  checkReadOnlyRoot,
  checkRunAsNonRoot,
  checkRunAsUser,
  checkSeccomp,
  checkVolumeTypes,
} from "../../policy/podSecurity";
import { checkLivenessProbe, checkReadinessProbe, checkStartupProbe } from "../../policy/probes";
import { checkResources, quantity } from "../../policy/resources";
import {
  checkAwaitTimeouts,
  checkGracefulShutdown,
  checkReplicas,
  checkRollingUpdate,
  checkRolloutTiming,
  checkTopologySpread,
  drainSeconds,
} from "../../policy/rollout";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const DIGEST = `sha256:${"a".repeat(64)}`;
const IMAGE = `registry.example.com/acme/api@${DIGEST}`;
const SELECTOR = { "app.kubernetes.io/name": "api", "app.kubernetes.io/instance": "api-prod" };
const LABELS = {
  ...SELECTOR,
  "app.kubernetes.io/component": "fastapi",
  "app.kubernetes.io/part-of": "pyfleet",
  "app.kubernetes.io/managed-by": "pulumi",
  "pyfleet.dev/environment": "prod",
};

/** A Deployment that passes every check; `mutate` breaks one thing. */
function deployment(mutate?: (props: any) => void): Resource {
  const props: any = {
    metadata: { namespace: "pyfleet-prod", labels: LABELS },
    spec: {
      replicas: 2,
      selector: { matchLabels: { ...SELECTOR } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      minReadySeconds: 10,
      progressDeadlineSeconds: 300,
      template: {
        metadata: { labels: { ...LABELS } },
        spec: {
          serviceAccountName: "api",
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            fsGroup: 10001,
            seccompProfile: { type: "RuntimeDefault" },
          },
          terminationGracePeriodSeconds: 40,
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "kubernetes.io/hostname",
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: { ...SELECTOR } },
            },
          ],
          containers: [
            {
              name: "api",
              image: IMAGE,
              imagePullPolicy: "IfNotPresent",
              ports: [{ name: "http", containerPort: 8000 }],
              env: [{ name: "HOME", value: "/tmp/home" }],
              resources: {
                requests: { cpu: "250m", memory: "512Mi" },
                limits: { cpu: "1", memory: "1Gi" },
              },
              securityContext: {
                privileged: false,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                runAsUser: 10001,
                runAsGroup: 10001,
                capabilities: { drop: ["ALL"] },
                seccompProfile: { type: "RuntimeDefault" },
              },
              startupProbe: {
                httpGet: { path: "/healthz", port: "http" },
                periodSeconds: 5,
                failureThreshold: 24,
              },
              readinessProbe: { httpGet: { path: "/ready", port: "http" }, periodSeconds: 10 },
              livenessProbe: { tcpSocket: { port: "http" }, periodSeconds: 20 },
              lifecycle: { preStop: { exec: { command: ["sleep", "10"] } } },
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
          ],
          volumes: [{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }],
        },
      },
    },
  };
  mutate?.(props);
  return {
    type: DEPLOYMENT,
    name: "api",
    props,
    opts: { customTimeouts: { createSeconds: 360, updateSeconds: 360, deleteSeconds: 0 } },
  };
}

const pod = (p: any) => p.spec.template.spec;
const container = (p: any) => p.spec.template.spec.containers[0];
const securityContext = (p: any) => container(p).securityContext;

function object(type: string, name: string, props: Record<string, unknown>): Resource {
  return { type, name, props };
}

describe("pod security checks (K1-K8)", () => {
  it("K1 passes a non-privileged container and names a privileged one", () => {
    expect(checkPrivileged(deployment())).toEqual([]);
    expect(checkPrivileged(deployment((p) => (securityContext(p).privileged = true)))).toEqual([
      'Deployment "api": container "api" sets securityContext.privileged to true; remove it (K1).',
    ]);
  });

  it("K1 looks at init containers and at every workload kind", () => {
    const job: Resource = object("kubernetes:batch/v1:CronJob", "nightly", {
      spec: {
        jobTemplate: {
          spec: {
            template: {
              spec: {
                initContainers: [{ name: "setup", securityContext: { privileged: true } }],
                containers: [{ name: "run" }],
              },
            },
          },
        },
      },
    });
    expect(checkPrivileged(job)).toEqual([
      'CronJob "nightly": init container "setup" sets securityContext.privileged to true; remove it (K1).',
    ]);
  });

  it("K2 requires allowPrivilegeEscalation false", () => {
    expect(checkPrivilegeEscalation(deployment())).toEqual([]);
    expect(
      checkPrivilegeEscalation(
        deployment((p) => (securityContext(p).allowPrivilegeEscalation = true)),
      ),
    ).toEqual([
      'Deployment "api": container "api" sets securityContext.allowPrivilegeEscalation to true; set it to false (K2).',
    ]);
    expect(
      checkPrivilegeEscalation(
        deployment((p) => delete securityContext(p).allowPrivilegeEscalation),
      ),
    ).toEqual([
      'Deployment "api": container "api" leaves securityContext.allowPrivilegeEscalation unset (it defaults to true); set it to false (K2).',
    ]);
  });

  it("K3 accepts runAsNonRoot from the pod and rejects false or unset", () => {
    expect(checkRunAsNonRoot(deployment((p) => delete securityContext(p).runAsNonRoot))).toEqual(
      [],
    );
    expect(checkRunAsNonRoot(deployment((p) => (securityContext(p).runAsNonRoot = false)))).toEqual(
      [
        'Deployment "api": container "api" sets securityContext.runAsNonRoot to false; set runAsNonRoot to true (K3).',
      ],
    );
    expect(
      checkRunAsNonRoot(
        deployment((p) => {
          delete securityContext(p).runAsNonRoot;
          delete pod(p).securityContext.runAsNonRoot;
        }),
      ),
    ).toEqual([
      'Deployment "api": container "api" does not set runAsNonRoot (neither securityContext.runAsNonRoot nor spec.template.spec.securityContext.runAsNonRoot); set runAsNonRoot to true (K3).',
    ]);
  });

  it("K4 requires a non-zero runAsUser and runAsGroup", () => {
    expect(checkRunAsUser(deployment())).toEqual([]);
    expect(
      checkRunAsUser(
        deployment((p) => {
          delete securityContext(p).runAsUser;
          pod(p).securityContext.runAsUser = 0;
        }),
      ),
    ).toEqual([
      'Deployment "api": container "api" sets spec.template.spec.securityContext.runAsUser to 0 (root); set securityContext.runAsUser to the image\'s numeric non-root USER (K4).',
    ]);
    expect(
      checkRunAsUser(
        deployment((p) => {
          delete securityContext(p).runAsGroup;
          delete pod(p).securityContext.runAsGroup;
        }),
      ),
    ).toEqual([
      'Deployment "api": container "api" does not set runAsGroup, so the image decides who it runs as; set securityContext.runAsGroup to the image\'s numeric non-root USER (K4).',
    ]);
  });

  it("K5 requires drop ALL and adds nothing but NET_BIND_SERVICE", () => {
    expect(
      checkCapabilities(
        deployment((p) => (securityContext(p).capabilities.add = ["NET_BIND_SERVICE"])),
      ),
    ).toEqual([]);
    expect(
      checkCapabilities(
        deployment(
          (p) => (securityContext(p).capabilities = { drop: ["NET_RAW"], add: ["SYS_ADMIN"] }),
        ),
      ),
    ).toEqual([
      'Deployment "api": container "api" drops ["NET_RAW"] instead of ALL capabilities; set securityContext.capabilities.drop to ["ALL"] (K5).',
      'Deployment "api": container "api" adds SYS_ADMIN in securityContext.capabilities.add; add nothing but NET_BIND_SERVICE (K5).',
    ]);
    expect(checkCapabilities(deployment((p) => delete securityContext(p).capabilities))).toEqual([
      'Deployment "api": container "api" does not drop capabilities (securityContext.capabilities.drop is unset); set securityContext.capabilities.drop to ["ALL"] (K5).',
    ]);
  });

  it("K6 requires a RuntimeDefault seccomp profile", () => {
    expect(checkSeccomp(deployment((p) => delete securityContext(p).seccompProfile))).toEqual([]);
    expect(
      checkSeccomp(deployment((p) => (securityContext(p).seccompProfile.type = "Unconfined"))),
    ).toEqual([
      'Deployment "api": container "api" sets securityContext.seccompProfile.type to "Unconfined"; set spec.template.spec.securityContext.seccompProfile.type to "RuntimeDefault" (K6).',
    ]);
    expect(
      checkSeccomp(
        deployment((p) => {
          delete securityContext(p).seccompProfile;
          delete pod(p).securityContext.seccompProfile;
        }),
      ),
    ).toEqual([
      'Deployment "api": container "api" has no seccomp profile (neither securityContext.seccompProfile nor spec.template.spec.securityContext.seccompProfile is set); set spec.template.spec.securityContext.seccompProfile.type to "RuntimeDefault" (K6).',
    ]);
  });

  it("K7 rejects host namespaces, host ports and hostPath", () => {
    expect(checkHostAccess(deployment())).toEqual([]);
    expect(
      checkHostAccess(
        deployment((p) => {
          pod(p).hostNetwork = true;
          container(p).ports[0].hostPort = 8000;
          pod(p).volumes.push({ name: "docker", hostPath: { path: "/var/run/docker.sock" } });
        }),
      ),
    ).toEqual([
      'Deployment "api": spec.template.spec.hostNetwork is true; remove it (K7).',
      'Deployment "api": container "api" sets ports[0].hostPort to 8000; remove hostPort and reach the pod through a Service (K7).',
      'Deployment "api": spec.template.spec.volumes[1] ("docker") is a hostPath volume; use an emptyDir, configMap, secret or persistentVolumeClaim volume instead (K7).',
    ]);
  });

  it("K8 allows only the restricted volume types", () => {
    expect(
      checkVolumeTypes(
        deployment((p) => pod(p).volumes.push({ name: "data", persistentVolumeClaim: {} })),
      ),
    ).toEqual([]);
    expect(
      checkVolumeTypes(
        deployment((p) => pod(p).volumes.push({ name: "share", nfs: { server: "nas" } })),
      ),
    ).toEqual([
      'Deployment "api": spec.template.spec.volumes[1] ("share") is a nfs volume; use one of configMap, secret, emptyDir, projected, downwardAPI, persistentVolumeClaim, ephemeral, csi (K8).',
    ]);
  });
});

describe("filesystem, resources and probes (K10-K16)", () => {
  it("K10 requires a read-only root with an emptyDir at /tmp", () => {
    expect(checkReadOnlyRoot(deployment())).toEqual([]);
    expect(
      checkReadOnlyRoot(deployment((p) => (securityContext(p).readOnlyRootFilesystem = false))),
    ).toEqual([
      'Deployment "api": container "api" sets securityContext.readOnlyRootFilesystem to false; set it to true and mount an emptyDir wherever the app writes (K10).',
    ]);
    expect(checkReadOnlyRoot(deployment((p) => (container(p).volumeMounts = [])))).toEqual([
      'Deployment "api": container "api" has no volume mounted at /tmp; mount an emptyDir volume at /tmp (K10).',
      'Deployment "api": container "api" points HOME at "/tmp/home", which is on the read-only root filesystem; mount an emptyDir there or point it below /tmp (K10).',
    ]);
    expect(
      checkReadOnlyRoot(deployment((p) => (pod(p).volumes = [{ name: "tmp", configMap: {} }]))),
    ).toEqual([
      'Deployment "api": container "api" mounts volume "tmp" at /tmp, which is not an emptyDir; mount an emptyDir volume at /tmp (K10).',
    ]);
  });

  it("K10 requires cache directories set in env to be writable", () => {
    expect(
      checkReadOnlyRoot(
        deployment((p) => container(p).env.push({ name: "MPLCONFIGDIR", value: "/app/.mpl" })),
      ),
    ).toEqual([
      'Deployment "api": container "api" points MPLCONFIGDIR at "/app/.mpl", which is on the read-only root filesystem; mount an emptyDir there or point it below /tmp (K10).',
    ]);
  });

  it("K11 requires requests, a memory limit, and limits at or above requests", () => {
    expect(checkResources(deployment())).toEqual([]);
    expect(
      checkResources(
        deployment((p) => {
          delete container(p).resources.requests.cpu;
          container(p).resources.limits.memory = "256Mi";
        }),
      ),
    ).toEqual([
      'Deployment "api": container "api" sets no resources.requests.cpu; set a CPU request (e.g. "100m") (K11).',
      'Deployment "api": container "api" sets resources.limits.memory ("256Mi") below resources.requests.memory ("512Mi"); raise the limit to at least the request (K11).',
    ]);
  });

  it("K11 requires a CPU limit only when configured", () => {
    const noCpuLimit = deployment((p) => delete container(p).resources.limits.cpu);
    expect(checkResources(noCpuLimit)).toEqual([]);
    expect(checkResources(noCpuLimit, { requireCpuLimit: true })).toEqual([
      'Deployment "api": container "api" sets no resources.limits.cpu; set a CPU limit at or above the request (K11).',
    ]);
  });

  it("parses Kubernetes quantities", () => {
    expect(quantity("250m")).toBe(0.25);
    expect(quantity("1")).toBe(1);
    expect(quantity(2)).toBe(2);
    expect(quantity("1Gi")).toBe(2 ** 30);
    expect(quantity("1G")).toBe(1e9);
    expect(quantity("lots")).toBeUndefined();
  });

  it("K14 requires a readinessProbe with a usable handler", () => {
    expect(checkReadinessProbe(deployment())).toEqual([]);
    expect(checkReadinessProbe(deployment((p) => delete container(p).readinessProbe))).toEqual([
      'Deployment "api": container "api" has no readinessProbe; add a readinessProbe on the app\'s ready endpoint (K14).',
    ]);
    expect(
      checkReadinessProbe(deployment((p) => (container(p).readinessProbe.httpGet.path = "ready"))),
    ).toEqual([
      'Deployment "api": container "api" readinessProbe.httpGet.path "ready" is not absolute; use an absolute path such as /healthz (K14).',
    ]);
  });

  it("probes, drains and rollouts apply to long-running workloads only", () => {
    for (const name of [
      "probe-readiness",
      "probe-liveness",
      "probe-startup",
      "workload-graceful-shutdown",
    ]) {
      const policy = resourcePolicies.find((p) => p.name === name)!;
      expect(appliesTo(policy.rule, "kubernetes:batch/v1:Job")).toBe(false);
      expect(appliesTo(policy.rule, "kubernetes:apps/v1:StatefulSet")).toBe(true);
    }
  });

  it("K15 requires a cheaper livenessProbe", () => {
    expect(checkLivenessProbe(deployment())).toEqual([]);
    expect(checkLivenessProbe(deployment((p) => delete container(p).livenessProbe))).toEqual([
      'Deployment "api": container "api" has no livenessProbe; add a cheap livenessProbe (a tcpSocket check or a path without dependencies) (K15).',
    ]);
    expect(
      checkLivenessProbe(
        deployment((p) => {
          container(p).livenessProbe = {
            httpGet: { path: "/ready", port: "http" },
            periodSeconds: 5,
          };
        }),
      ),
    ).toEqual([
      'Deployment "api": container "api" runs livenessProbe every 5s, more often than readinessProbe (every 10s); set livenessProbe.periodSeconds to at least readinessProbe.periodSeconds (K15).',
      'Deployment "api": container "api" livenessProbe polls the readiness endpoint "/ready"; point it at a path without dependencies or use a tcpSocket check, so a slow dependency never gets the pod restarted (K15).',
    ]);
  });

  it("K16 requires a startupProbe budget of at least the configured minimum", () => {
    expect(checkStartupProbe(deployment())).toEqual([]);
    expect(checkStartupProbe(deployment(), { minStartupSeconds: 180 })).toEqual([
      'Deployment "api": container "api" startupProbe allows 120s (failureThreshold 24 x periodSeconds 5); raise startupProbe.failureThreshold so it allows at least 180s (K16).',
    ]);
    expect(checkStartupProbe(deployment((p) => delete container(p).startupProbe))).toEqual([
      'Deployment "api": container "api" has no startupProbe; add a startupProbe that allows at least 60s (failureThreshold x periodSeconds) (K16).',
    ]);
    expect(
      checkStartupProbe(
        deployment((p) => (container(p).startupProbe = { tcpSocket: { port: "http" } })),
      ),
    ).toEqual([
      'Deployment "api": container "api" startupProbe allows 30s (failureThreshold 3 x periodSeconds 10); raise startupProbe.failureThreshold so it allows at least 60s (K16).',
    ]);
  });
});

describe("replicas and rollouts (K17-K21)", () => {
  it("K17 requires two replicas outside dev, from config or the environment label", () => {
    const single = deployment((p) => (p.spec.replicas = 1));
    expect(checkReplicas(deployment())).toEqual([]);
    expect(checkReplicas(single, { environment: "dev" })).toEqual([]);
    expect(checkReplicas(single)).toEqual([
      'Deployment "api": spec.replicas is 1 in prod; set it to at least 2 (or leave it to an HPA with minReplicas >= 2) so a restart or a node drain never leaves the app without a ready pod (K17).',
    ]);
    expect(checkReplicas(single, { environment: "staging" })).toEqual([
      'Deployment "api": spec.replicas is 1 in staging; set it to at least 2 (or leave it to an HPA with minReplicas >= 2) so a restart or a node drain never leaves the app without a ready pod (K17).',
    ]);
  });

  it("K17 does not judge a workload whose environment is unknown", () => {
    const unlabelled = deployment((p) => {
      p.spec.replicas = 1;
      delete p.metadata.labels;
      delete p.spec.template.metadata.labels["pyfleet.dev/environment"];
    });
    expect(checkReplicas(unlabelled)).toEqual([]);
  });

  it("K18 requires RollingUpdate with maxUnavailable 0 and maxSurge >= 1", () => {
    expect(checkRollingUpdate(deployment())).toEqual([]);
    expect(checkRollingUpdate(deployment((p) => (p.spec.strategy = { type: "Recreate" })))).toEqual(
      [
        'Deployment "api": spec.strategy.type is "Recreate"; use "RollingUpdate" with maxUnavailable 0 and maxSurge 1 (K18).',
      ],
    );
    expect(checkRollingUpdate(deployment((p) => delete p.spec.strategy))).toEqual([
      'Deployment "api": spec.strategy.rollingUpdate.maxUnavailable is unset (it defaults to 25%); set it to 0 (K18).',
    ]);
    expect(
      checkRollingUpdate(
        deployment((p) => (p.spec.strategy.rollingUpdate = { maxUnavailable: "25%", maxSurge: 0 })),
      ),
    ).toEqual([
      'Deployment "api": spec.strategy.rollingUpdate.maxUnavailable is "25%"; set it to 0 (K18).',
      'Deployment "api": spec.strategy.rollingUpdate.maxSurge is 0; set it to 1 or more (K18).',
    ]);
  });

  it("K19 requires minReadySeconds and a progress deadline above it", () => {
    expect(checkRolloutTiming(deployment())).toEqual([]);
    expect(
      checkRolloutTiming(
        deployment((p) => {
          delete p.spec.minReadySeconds;
          delete p.spec.progressDeadlineSeconds;
        }),
      ),
    ).toEqual([
      'Deployment "api": spec.minReadySeconds is unset (0); set it above 0 so a new pod must stay ready before it counts as available (K19).',
      'Deployment "api": spec.progressDeadlineSeconds is unset (it defaults to 600); set it, below the Pulumi await timeout (customTimeouts) (K19).',
    ]);
    expect(checkRolloutTiming(deployment((p) => (p.spec.progressDeadlineSeconds = 10)))).toEqual([
      'Deployment "api": spec.progressDeadlineSeconds (10) is not above spec.minReadySeconds (10); raise it (K19).',
    ]);
  });

  it("K25/K19 require customTimeouts above the progress deadline", () => {
    expect(checkAwaitTimeouts(deployment())).toEqual([]);
    const unset = { ...deployment(), opts: {} };
    expect(checkAwaitTimeouts(unset)).toEqual([]);
    const short = {
      ...deployment(),
      opts: { customTimeouts: { createSeconds: 0, updateSeconds: 240, deleteSeconds: 0 } },
    };
    expect(checkAwaitTimeouts(short)).toEqual([
      'Deployment "api": customTimeouts.create is unset, so pulumi up waits the provider default (10 minutes) for a failing rollout; set customTimeouts.create and .update a little above spec.progressDeadlineSeconds (K25).',
      'Deployment "api": spec.progressDeadlineSeconds (300) is not below customTimeouts.update (240s); lower the deadline or raise the timeout so Kubernetes reports a stalled rollout first (K19).',
    ]);
  });

  it("K20 requires a preStop drain and a longer grace period", () => {
    expect(checkGracefulShutdown(deployment())).toEqual([]);
    expect(checkGracefulShutdown(deployment((p) => delete container(p).lifecycle))).toEqual([
      'Deployment "api": container "api" has no lifecycle.preStop; add a preStop sleep so endpoints and the ingress stop routing before SIGTERM (K20).',
    ]);
    expect(
      checkGracefulShutdown(deployment((p) => delete pod(p).terminationGracePeriodSeconds)),
    ).toEqual([]);
    expect(
      checkGracefulShutdown(
        deployment(
          (p) =>
            (container(p).lifecycle.preStop = { exec: { command: ["/bin/sh", "-c", "sleep 45"] } }),
        ),
      ),
    ).toEqual([
      'Deployment "api": spec.template.spec.terminationGracePeriodSeconds (40) is not above the preStop drain of container "api" (45s); raise it above the drain delay plus the app\'s shutdown time (K20).',
    ]);
  });

  it("reads the drain delay of exec and sleep hooks", () => {
    expect(drainSeconds({ exec: { command: ["sleep", "5"] } })).toBe(5);
    expect(drainSeconds({ sleep: { seconds: 7 } })).toBe(7);
    expect(drainSeconds({ httpGet: { path: "/drain" } })).toBeUndefined();
  });

  it("K21 requires a hostname spread with ScheduleAnyway when replicas > 1", () => {
    expect(checkTopologySpread(deployment())).toEqual([]);
    expect(
      checkTopologySpread(
        deployment((p) => {
          p.spec.replicas = 1;
          delete pod(p).topologySpreadConstraints;
        }),
      ),
    ).toEqual([]);
    expect(checkTopologySpread(deployment((p) => delete pod(p).topologySpreadConstraints))).toEqual(
      [
        'Deployment "api": spec.replicas is 2 but spec.template.spec.topologySpreadConstraints has no kubernetes.io/hostname constraint; add one with whenUnsatisfiable "ScheduleAnyway" selecting the pod labels (K21).',
      ],
    );
    expect(
      checkTopologySpread(
        deployment((p) => {
          const spread = pod(p).topologySpreadConstraints[0];
          spread.whenUnsatisfiable = "DoNotSchedule";
          spread.labelSelector.matchLabels["app.kubernetes.io/name"] = "web";
        }),
      ),
    ).toEqual([
      'Deployment "api": the kubernetes.io/hostname constraint in spec.template.spec.topologySpreadConstraints sets whenUnsatisfiable to "DoNotSchedule"; set it to "ScheduleAnyway" so a single node can still run every replica (K21).',
      'Deployment "api": the kubernetes.io/hostname constraint in spec.template.spec.topologySpreadConstraints selects app.kubernetes.io/name=web, which the pods do not carry; select the workload\'s own pod labels (K21).',
    ]);
  });
});

describe("identity, env and labels (K22-K24)", () => {
  it("K22 requires an own ServiceAccount without a mounted token", () => {
    expect(checkServiceAccount(deployment())).toEqual([]);
    expect(
      checkServiceAccount(
        deployment((p) => {
          delete pod(p).automountServiceAccountToken;
          pod(p).serviceAccountName = "default";
        }),
      ),
    ).toEqual([
      'Deployment "api": spec.template.spec.automountServiceAccountToken is unset (the token is mounted); set it to false (K22).',
      'Deployment "api": spec.template.spec.serviceAccountName is "default"; create a ServiceAccount for the app and name it here (K22).',
    ]);
    expect(checkServiceAccount(deployment((p) => delete pod(p).serviceAccountName))).toEqual([
      'Deployment "api": spec.template.spec.serviceAccountName is unset, so the pods run as the namespace\'s default ServiceAccount; create a ServiceAccount for the app and name it here (K22).',
    ]);
  });

  it("K23 rejects literal values in secret-looking env vars", () => {
    const fromSecret = deployment((p) =>
      container(p).env.push({
        name: "DATABASE_PASSWORD",
        valueFrom: { secretKeyRef: { name: "api-secrets", key: "DATABASE_PASSWORD" } },
      }),
    );
    expect(checkEnvSecrets(fromSecret)).toEqual([]);
    expect(
      checkEnvSecrets(
        deployment((p) => container(p).env.push({ name: "API_KEY", value: "hunter2" })),
      ),
    ).toEqual([
      'Deployment "api": container "api" sets env API_KEY to a literal value; take it from a Secret (valueFrom.secretKeyRef or envFrom.secretRef) (K23).',
    ]);
  });

  it("K24 requires the app.kubernetes.io labels and a selector within them", () => {
    expect(checkLabels(deployment())).toEqual([]);
    expect(
      checkLabels(
        deployment((p) => {
          delete p.spec.template.metadata.labels["app.kubernetes.io/part-of"];
          p.spec.selector.matchLabels["tier"] = "web";
        }),
      ),
    ).toEqual([
      'Deployment "api": spec.template.metadata.labels lacks app.kubernetes.io/part-of; add the app.kubernetes.io/* labels (name, instance, component, part-of, managed-by) (K24).',
      'Deployment "api": spec.selector.matchLabels tier=web is not among spec.template.metadata.labels; make the selector a subset of the pod labels (K24).',
    ]);
  });
});

describe("images (K12, K13, registry allowlist, P2)", () => {
  it("K12 requires a digest and never the latest tag", () => {
    expect(checkImageDigest(deployment())).toEqual([]);
    const image = (ref: string) => checkImageDigest(deployment((p) => (container(p).image = ref)));
    expect(image("registry.example.com/acme/api:1.2.0")).toEqual([
      'Deployment "api": container "api" runs image "registry.example.com/acme/api:1.2.0" by the tag "1.2.0", not by digest; deploy it by digest (repository@sha256:...) (K12).',
    ]);
    expect(image("nginx")).toEqual([
      'Deployment "api": container "api" runs image "nginx" without a tag or digest (that is the mutable latest tag); deploy it by digest (repository@sha256:...) (K12).',
    ]);
    expect(image("localhost:5000/api:latest")).toEqual([
      'Deployment "api": container "api" runs image "localhost:5000/api:latest" by the mutable tag "latest"; deploy it by digest (repository@sha256:...) (K12).',
    ]);
    expect(image(`localhost:5000/api:latest@${DIGEST}`)).toEqual([
      `Deployment "api": container "api" image "localhost:5000/api:latest@${DIGEST}" names the tag "latest"; drop the tag; the digest alone names the image (K12).`,
    ]);
  });

  it("K13 keeps digest-pinned images IfNotPresent", () => {
    expect(checkPullPolicy(deployment())).toEqual([]);
    expect(checkPullPolicy(deployment((p) => delete container(p).imagePullPolicy))).toEqual([]);
    expect(checkPullPolicy(deployment((p) => (container(p).imagePullPolicy = "Always")))).toEqual([
      'Deployment "api": container "api" sets imagePullPolicy to "Always" for a digest-pinned image, though a digest never changes, so every start depends on the registry; set it to "IfNotPresent" or leave it unset (K13).',
    ]);
  });

  it("parses image references like Docker", () => {
    expect(parseImage("nginx")).toEqual({
      registry: "docker.io",
      repository: "docker.io/library/nginx",
    });
    expect(parseImage(`localhost:5000/pyfleet/api:1.0@${DIGEST}`)).toEqual({
      registry: "localhost:5000",
      repository: "localhost:5000/pyfleet/api",
      tag: "1.0",
      digest: DIGEST,
    });
    expect(isAllowedRegistry("ghcr.io/acme/api:1", ["ghcr.io"])).toBe(true);
    expect(isAllowedRegistry("ghcr.io/acme/api:1", ["ghcr.io/other"])).toBe(false);
    expect(isAllowedRegistry("ghcr.io/acme-tools/api", ["ghcr.io/acme"])).toBe(false);
    expect(isAllowedRegistry("anything", [])).toBe(true);
  });

  it("the registry allowlist covers pod images and pushed tags", () => {
    const allowed = { allowedRegistries: ["registry.example.com/acme"] };
    expect(checkRegistry(deployment(), allowed)).toEqual([]);
    expect(
      checkRegistry(deployment((p) => (container(p).image = `docker.io/evil/api@${DIGEST}`))),
    ).toEqual([]);
    expect(
      checkRegistry(
        deployment((p) => (container(p).image = `docker.io/evil/api@${DIGEST}`)),
        allowed,
      ),
    ).toEqual([
      `Deployment "api": container "api" runs image "docker.io/evil/api@${DIGEST}" from outside allowedRegistries (registry.example.com/acme); use an allowed registry or extend allowedRegistries in the policy pack config (image-registry).`,
    ]);
    const build = object("docker-build:index:Image", "api-image", {
      tags: ["registry.example.com/acme/api:1.0", "ghcr.io/someone/api:1.0"],
    });
    expect(checkRegistry(build, allowed)).toEqual([
      'Image "api-image": tags[1] "ghcr.io/someone/api:1.0" pushes outside allowedRegistries (registry.example.com/acme); use an allowed registry or extend allowedRegistries in the policy pack config (image-registry).',
    ]);
  });

  it("P2 rejects secret-looking build arguments", () => {
    const image = (buildArgs: Record<string, string>) =>
      object("docker-build:index:Image", "api-image", { buildArgs });
    expect(checkBuildArgs(image({ PYTHON_VERSION: "3.12", APP_VERSION: "1.0" }))).toEqual([]);
    expect(checkBuildArgs(image({ PIP_PASSWORD: "x", GITHUB_TOKEN: "y" }))).toEqual([
      'Image "api-image": buildArgs.PIP_PASSWORD looks like a secret, and build arguments stay in the image history; pass it in secrets and read it with RUN --mount=type=secret (P2).',
      'Image "api-image": buildArgs.GITHUB_TOKEN looks like a secret, and build arguments stay in the image history; pass it in secrets and read it with RUN --mount=type=secret (P2).',
    ]);
  });
});

describe("every Kubernetes object (K25, K26)", () => {
  const service = (metadata: Record<string, unknown>) =>
    object("kubernetes:core/v1:Service", "api", { metadata, spec: { type: "ClusterIP" } });

  it("K25 rejects the skipAwait annotation", () => {
    expect(checkSkipAwait(service({ annotations: { "pulumi.com/skipAwait": "false" } }))).toEqual(
      [],
    );
    expect(checkSkipAwait(service({ annotations: { "pulumi.com/skipAwait": "true" } }))).toEqual([
      'Service "api": metadata.annotations["pulumi.com/skipAwait"] is "true", so pulumi up does not wait for it to become ready; remove the annotation (K25).',
    ]);
  });

  it("K26 rejects default and kube-system, explicitly or through the provider", () => {
    expect(checkNamespace(service({ namespace: "pyfleet-prod" }))).toEqual([]);
    expect(checkNamespace(service({}))).toEqual([]);
    expect(checkNamespace(service({ namespace: "kube-system" }))).toEqual([
      'Service "api": metadata.namespace is "kube-system"; deploy into the app\'s own namespace (pyfleet:namespace) (K26).',
    ]);
    expect(
      checkNamespace({ ...service({}), provider: { props: { namespace: "default" } } }),
    ).toEqual([
      'Service "api": metadata.namespace is unset and the provider\'s namespace is "default"; deploy into the app\'s own namespace (pyfleet:namespace) (K26).',
    ]);
    const namespace = object("kubernetes:core/v1:Namespace", "ns", {
      metadata: { name: "default" },
    });
    expect(checkNamespace(namespace)).toEqual([
      'Namespace "ns" (default): manages the "default" namespace; deploy into the app\'s own namespace (pyfleet:namespace) (K26).',
    ]);
    const role = object("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "reader", {
      metadata: {},
    });
    expect(checkNamespace({ ...role, provider: { props: { namespace: "default" } } })).toEqual([]);
  });
});

describe("companion objects (C1-C7)", () => {
  const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
  const matchLabels = { ...SELECTOR };

  it("C1 allows at least one disruption and selects pods", () => {
    expect(
      checkPodDisruptionBudget(
        object(PDB, "api", { spec: { maxUnavailable: 1, selector: { matchLabels } } }),
      ),
    ).toEqual([]);
    expect(
      checkPodDisruptionBudget(object(PDB, "api", { spec: { maxUnavailable: 0, selector: {} } })),
    ).toEqual([
      'PodDisruptionBudget "api": spec.maxUnavailable is 0, so no pod may ever be evicted and node drains hang; allow at least one disruption (e.g. maxUnavailable: 1) (C1).',
      'PodDisruptionBudget "api": spec.selector is empty, so the budget covers every pod in the namespace; select the app\'s pods by its selector labels (C1).',
    ]);
    expect(
      checkPodDisruptionBudget(
        object(PDB, "api", { spec: { minAvailable: "100%", selector: { matchLabels } } }),
      ),
    ).toEqual([
      'PodDisruptionBudget "api": spec.minAvailable is "100%", so no pod may ever be evicted and node drains hang; allow at least one disruption (e.g. maxUnavailable: 1) (C1).',
    ]);
  });

  it("C2 admits named peers only", () => {
    const NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
    const traefik = {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
      podSelector: { matchLabels: { "app.kubernetes.io/name": "traefik" } },
    };
    expect(
      checkNetworkPolicy(
        object(NP, "api", {
          spec: { podSelector: { matchLabels }, ingress: [{ from: [traefik] }] },
        }),
      ),
    ).toEqual([]);
    expect(
      checkNetworkPolicy(
        object(NP, "api", {
          spec: {
            podSelector: { matchLabels },
            ingress: [
              { ports: [{ port: 80 }] },
              { from: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { namespaceSelector: {} }] },
            ],
          },
        }),
      ),
    ).toEqual([
      'NetworkPolicy "api": spec.ingress[0] has no from, so it admits traffic from everywhere; list the allowed peers (the ingress controller, declared namespaces) in from (C2).',
      'NetworkPolicy "api": spec.ingress[1].from[0].ipBlock admits 0.0.0.0/0; allow the specific peers instead (C2).',
      'NetworkPolicy "api": spec.ingress[1].from[1].namespaceSelector is empty and matches every namespace; match the peer namespace by its kubernetes.io/metadata.name label (C2).',
    ]);
  });

  it("C3 requires the restricted Pod Security level", () => {
    const NS = "kubernetes:core/v1:Namespace";
    const ns = (labels: Record<string, string>) =>
      object(NS, "pyfleet-prod", { metadata: { name: "pyfleet-prod", labels } });
    expect(
      checkNamespacePodSecurity(ns({ "pod-security.kubernetes.io/enforce": "restricted" })),
    ).toEqual([]);
    expect(
      checkNamespacePodSecurity(ns({ "pod-security.kubernetes.io/enforce": "baseline" })),
    ).toEqual([
      'Namespace "pyfleet-prod": metadata.labels["pod-security.kubernetes.io/enforce"] is "baseline"; set pod-security.kubernetes.io/enforce to "restricted" (C3).',
    ]);
    expect(checkNamespacePodSecurity(ns({}))).toEqual([
      'Namespace "pyfleet-prod": metadata.labels lacks pod-security.kubernetes.io/enforce; set pod-security.kubernetes.io/enforce to "restricted" (C3).',
    ]);
  });

  it("C4 keeps Services on ClusterIP", () => {
    const svc = (spec: Record<string, unknown>) =>
      object("kubernetes:core/v1:Service", "api", { spec });
    expect(checkServiceType(svc({ type: "ClusterIP" }))).toEqual([]);
    expect(checkServiceType(svc({}))).toEqual([]);
    expect(checkServiceType(svc({ type: "NodePort" }))).toEqual([
      'Service "api": spec.type is "NodePort"; use "ClusterIP" and expose the app through its Ingress (C4).',
    ]);
    expect(checkServiceType(svc({ type: "LoadBalancer" }))).toEqual([
      'Service "api": spec.type is "LoadBalancer"; use "ClusterIP" and expose the app through its Ingress (C4).',
    ]);
  });

  it("C5 requires a class and TLS for hosts that are not *.localhost", () => {
    const ING = "kubernetes:networking.k8s.io/v1:Ingress";
    const ingress = (spec: Record<string, unknown>) => object(ING, "api", { spec });
    const rules = (...hosts: string[]) => hosts.map((host) => ({ host }));
    expect(
      checkIngress(ingress({ ingressClassName: "traefik", rules: rules("api.dev.localhost") })),
    ).toEqual([]);
    expect(
      checkIngress(
        ingress({
          ingressClassName: "traefik",
          rules: rules("api.example.com", "www.example.com"),
          tls: [{ hosts: ["api.example.com"] }, { hosts: ["*.example.com"] }],
        }),
      ),
    ).toEqual([]);
    expect(
      checkIngress(
        ingress({
          rules: rules("api.example.com", "a.b.example.org"),
          tls: [{ hosts: ["*.example.org"] }],
        }),
      ),
    ).toEqual([
      'Ingress "api": spec.ingressClassName is unset; set it to the cluster\'s controller class (k3s: "traefik") (C5).',
      'Ingress "api": spec.rules[0].host "api.example.com" is served without TLS (no spec.tls entry lists it); add it to spec.tls with a certificate secret or a cert-manager issuer (C5).',
      'Ingress "api": spec.rules[1].host "a.b.example.org" is served without TLS (no spec.tls entry lists it); add it to spec.tls with a certificate secret or a cert-manager issuer (C5).',
    ]);
  });

  it("C6 keeps HPAs at two replicas or more", () => {
    const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
    const hpa = (spec: Record<string, unknown>) => object(HPA, "api", { spec });
    expect(checkHpaMinReplicas(hpa({ minReplicas: 3, maxReplicas: 10 }))).toEqual([]);
    expect(checkHpaMinReplicas(hpa({ minReplicas: 1, maxReplicas: 10 }))).toEqual([
      'HorizontalPodAutoscaler "api": spec.minReplicas is 1; set it to at least 2 (C6).',
    ]);
    expect(checkHpaMinReplicas(hpa({ maxReplicas: 10 }))).toEqual([
      'HorizontalPodAutoscaler "api": spec.minReplicas is unset (it defaults to 1); set it to at least 2 (C6).',
    ]);
  });

  it("C7 rejects secret-looking ConfigMap keys", () => {
    const CM = "kubernetes:core/v1:ConfigMap";
    expect(checkConfigMapKeys(object(CM, "api", { data: { LOG_LEVEL: "info" } }))).toEqual([]);
    expect(
      checkConfigMapKeys(
        object(CM, "api", { data: { DB_PASSWORD: "x" }, binaryData: { "private.pem": "eA==" } }),
      ),
    ).toEqual([
      'ConfigMap "api": data.DB_PASSWORD looks like a secret; move it to a Secret and reference it with envFrom.secretRef or valueFrom.secretKeyRef (C7).',
      'ConfigMap "api": binaryData.private.pem looks like a secret; move it to a Secret and reference it with envFrom.secretRef or valueFrom.secretKeyRef (C7).',
    ]);
  });
});

describe("stack checks (K17 with HPAs, C2 default deny)", () => {
  const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
  const NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
  const autoscaled = (name: string) => ({
    ...deployment((p) => {
      delete p.spec.replicas;
      p.metadata.name = name;
    }),
    urn: "urn:api",
  });
  const hpa = (target: unknown, namespace = "pyfleet-prod") =>
    object(HPA, "api", {
      metadata: { namespace },
      spec: {
        minReplicas: 3,
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: target },
      },
    });

  it("K17 passes an unset replica count that an HPA owns", () => {
    expect(checkAutoscaledReplicas([autoscaled("api-1a2b"), hpa("api-1a2b")])).toEqual([]);
    expect(checkAutoscaledReplicas([autoscaled("api-1a2b")], { environment: "dev" })).toEqual([]);
  });

  it("K17 reports an unset replica count without an HPA", () => {
    expect(checkAutoscaledReplicas([autoscaled("api-1a2b"), hpa("web-9f8e")])).toEqual([
      {
        urn: "urn:api",
        message:
          'Deployment "api" (api-1a2b): spec.replicas is unset and no HorizontalPodAutoscaler targets it, so it runs one pod in prod; set spec.replicas to at least 2 or add an HPA with minReplicas >= 2 (K17).',
      },
    ]);
    expect(
      checkAutoscaledReplicas([autoscaled("api-1a2b"), hpa("api-1a2b", "other")]),
    ).toHaveLength(1);
  });

  it("K17 proves nothing while an HPA target is unknown", () => {
    expect(checkAutoscaledReplicas([autoscaled("api-1a2b"), hpa(UNKNOWN)])).toEqual([]);
  });

  it("C2 requires a default-deny ingress policy in every namespace with workloads", () => {
    const deny = object(NP, "deny", {
      metadata: { namespace: "pyfleet-prod" },
      spec: { podSelector: {}, policyTypes: ["Ingress"] },
    });
    const namespace = {
      ...object("kubernetes:core/v1:Namespace", "pyfleet-prod", {
        metadata: { name: "pyfleet-prod" },
      }),
      urn: "urn:ns",
    };
    expect(checkDefaultDeny([namespace, deployment(), deny])).toEqual([]);
    const allowAll = object(NP, "allow", {
      metadata: { namespace: "pyfleet-prod" },
      spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{}] },
    });
    expect(checkDefaultDeny([namespace, deployment(), allowAll])).toEqual([
      {
        urn: "urn:ns",
        message:
          'Namespace "pyfleet-prod": it runs Deployment "api" but has no default-deny ingress NetworkPolicy; add one (podSelector {}, policyTypes [Ingress], no ingress rules) so every allowed path is an explicit policy (C2).',
      },
    ]);
  });

  it("C2 proves nothing while a policy's namespace is unknown", () => {
    const unknown = object(NP, "deny", {
      metadata: { namespace: UNKNOWN },
      spec: { podSelector: {} },
    });
    expect(checkDefaultDeny([deployment(), unknown])).toEqual([]);
  });
});

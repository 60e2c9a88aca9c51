/**
 * The Kubernetes objects of one app, as plain specs. Pure: no resources are created here, so
 * every security and reliability property is testable without mocks. The rules these specs
 * follow (label keys, capabilities, seccomp, rollout numbers) come from the policy pack's
 * vocabulary, the same definitions the pack checks them against.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { AppSettings, Environment, RolloutSettings } from "../stacks/types";
import { KIND_PRESETS, heartbeatCommand } from "../stacks/presets";
import {
  APP_LABEL,
  DROPPED_CAPABILITIES,
  ENVIRONMENT_LABEL,
  ROLLING_UPDATE,
  SCRATCH_MOUNT_PATH,
  SECCOMP_PROFILE,
} from "../policy/vocabulary";

/** Name of the container port every HTTP app exposes. */
export const HTTP_PORT_NAME = "http";
/** Name of the metrics port, when it differs from the app port. */
export const METRICS_PORT_NAME = "metrics";
/** Size of the /tmp scratch volume. */
export const TMP_SIZE_LIMIT = "256Mi";
/** Ephemeral storage (logs, /tmp) per container: the limit covers the /tmp volume. */
export const EPHEMERAL_STORAGE = { request: "128Mi", limit: "512Mi" } as const;
/** Seconds SIGTERM handling may take after the drain delay. */
export const SHUTDOWN_SECONDS = 30;
/** Annotation keys carrying build provenance. */
export const ANNOTATIONS = {
  version: "pyfleet.dev/version",
  revision: "pyfleet.dev/revision",
  image: "pyfleet.dev/image",
} as const;

/** Where k3s runs its bundled Traefik ingress controller. */
export const INGRESS_CONTROLLER = {
  namespace: "kube-system",
  podLabels: { [APP_LABEL.name]: "traefik" },
} as const;

/** Labels that select an app's pods: stable across versions. */
export function selectorLabels(app: string, environment: Environment): Record<string, string> {
  return {
    [APP_LABEL.name]: app,
    [APP_LABEL.instance]: `${app}-${environment}`,
  };
}

/** The full app.kubernetes.io/* label set. */
export function appLabels(
  app: Pick<AppSettings, "name" | "kind" | "version">,
  environment: Environment,
): Record<string, string> {
  return {
    ...selectorLabels(app.name, environment),
    [APP_LABEL.component]: app.kind,
    [APP_LABEL.partOf]: "pyfleet",
    [APP_LABEL.managedBy]: "pulumi",
    [ENVIRONMENT_LABEL]: environment,
    ...(app.version !== undefined ? { [APP_LABEL.version]: app.version } : {}),
  };
}

/** The number of pods the app runs when idle (the HPA minimum when autoscaling). */
export function baselineReplicas(app: Pick<AppSettings, "replicas" | "autoscaling">): number {
  return app.autoscaling.enabled ? app.autoscaling.minReplicas : app.replicas;
}

/** Startup, readiness and liveness probes; liveness is the cheapest and least frequent. */
export function probes(
  app: Pick<AppSettings, "kind" | "health">,
): Pick<k8s.types.input.core.v1.Container, "startupProbe" | "readinessProbe" | "livenessProbe"> {
  const startupPeriod = 5;
  const startupFailures = Math.max(1, Math.ceil(app.health.startupBudgetSeconds / startupPeriod));
  if (!KIND_PRESETS[app.kind].http) {
    const exec = { command: heartbeatCommand() };
    return {
      startupProbe: {
        exec,
        periodSeconds: startupPeriod,
        failureThreshold: startupFailures,
        timeoutSeconds: 5,
      },
      readinessProbe: { exec, periodSeconds: 15, failureThreshold: 3, timeoutSeconds: 5 },
      livenessProbe: { exec, periodSeconds: 30, failureThreshold: 3, timeoutSeconds: 5 },
    };
  }
  const get = (path: string) => ({ path, port: HTTP_PORT_NAME });
  // When the app has a single health route, liveness drops to a TCP check: cheaper than the
  // readiness request, and a slow dependency can never get the pod restarted.
  const liveness =
    app.health.livenessPath === app.health.readinessPath
      ? { tcpSocket: { port: HTTP_PORT_NAME } }
      : { httpGet: get(app.health.livenessPath) };
  return {
    startupProbe: {
      httpGet: get(app.health.startupPath),
      periodSeconds: startupPeriod,
      failureThreshold: startupFailures,
      timeoutSeconds: 3,
    },
    readinessProbe: {
      httpGet: get(app.health.readinessPath),
      periodSeconds: 10,
      failureThreshold: 3,
      successThreshold: 1,
      timeoutSeconds: 3,
    },
    livenessProbe: {
      ...liveness,
      periodSeconds: 20,
      failureThreshold: 3,
      timeoutSeconds: 3,
    },
  };
}

/** Pod-level security context of the restricted profile, running as the image's uid. */
export function podSecurityContext(uid: number): k8s.types.input.core.v1.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    seccompProfile: { type: SECCOMP_PROFILE },
  };
}

/** Container-level security context of the restricted profile. */
export function containerSecurityContext(uid: number): k8s.types.input.core.v1.SecurityContext {
  return {
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    capabilities: { drop: [...DROPPED_CAPABILITIES] },
    seccompProfile: { type: SECCOMP_PROFILE },
  };
}

/** Seconds between SIGTERM-after-drain and SIGKILL: always above the drain delay. */
export function terminationGracePeriodSeconds(rollout: RolloutSettings): number {
  return rollout.drainSeconds + SHUTDOWN_SECONDS;
}

/** References the Deployment needs to other objects of the app. */
export interface WorkloadRefs {
  /** Digest reference of the image (`repo@sha256:...`). */
  image: pulumi.Input<string>;
  /** ServiceAccount name. */
  serviceAccountName: pulumi.Input<string>;
  /** ConfigMap with the app's plain configuration, if any. */
  configMapName?: pulumi.Input<string>;
  /** Secret with the app's secret environment, if any. */
  secretName?: pulumi.Input<string>;
  /** Image pull secret, for private registries. */
  pullSecretName?: pulumi.Input<string>;
  /** PVC name by volume name. */
  claimNames?: Record<string, pulumi.Input<string>>;
  /**
   * Whether the program applies the Deployment to a live cluster itself (else the manifests
   * are rendered for another tool to apply). Decides `spec.replicas` under an HPA, see
   * {@link deploymentIgnoresReplicas}. @default false
   */
  live?: boolean;
}

/**
 * Whether the Deployment starts at the HPA's minimum and then leaves `spec.replicas` to the
 * autoscaler: on a live cluster with an HPA. The program sets `ignoreChanges:
 * ["spec.replicas"]` there, and the kubernetes provider leaves the field to the autoscaler
 * once it has scaled (server-side apply ownership); so `up` waits for the minimum, and an
 * update never resets a scaled count. Rendered manifests leave the field out instead, as
 * kube-score asks: whoever applies them would otherwise reset the count on every apply.
 */
export function deploymentIgnoresReplicas(
  app: Pick<AppSettings, "autoscaling">,
  live: boolean,
): boolean {
  return app.autoscaling.enabled && live;
}

/** The Deployment spec of one app. */
export function deploymentSpec(
  app: AppSettings,
  environment: Environment,
  rollout: RolloutSettings,
  refs: WorkloadRefs,
): k8s.types.input.apps.v1.DeploymentSpec {
  const selector = selectorLabels(app.name, environment);
  const replicas = baselineReplicas(app);
  const ports: k8s.types.input.core.v1.ContainerPort[] = [];
  if (app.port !== undefined) {
    ports.push({ name: HTTP_PORT_NAME, containerPort: app.port, protocol: "TCP" });
  }
  if (app.metrics && app.metrics.port !== app.port) {
    ports.push({ name: METRICS_PORT_NAME, containerPort: app.metrics.port, protocol: "TCP" });
  }
  const envFrom: k8s.types.input.core.v1.EnvFromSource[] = [];
  if (refs.configMapName !== undefined)
    envFrom.push({ configMapRef: { name: refs.configMapName } });
  if (refs.secretName !== undefined) envFrom.push({ secretRef: { name: refs.secretName } });

  const limits: Record<string, string> = {
    memory: app.resources.limits.memory,
    "ephemeral-storage": EPHEMERAL_STORAGE.limit,
  };
  if (app.resources.limits.cpu !== undefined) limits["cpu"] = app.resources.limits.cpu;
  if (app.gpu) limits["nvidia.com/gpu"] = String(app.gpu.count);

  const annotations: Record<string, string> = {};
  if (app.version !== undefined) annotations[ANNOTATIONS.version] = app.version;
  if (app.revision !== undefined) {
    annotations[ANNOTATIONS.revision] = app.revision.sha + (app.revision.dirty ? "-dirty" : "");
  }
  if (app.metrics) {
    annotations["prometheus.io/scrape"] = "true";
    annotations["prometheus.io/port"] = String(app.metrics.port);
    annotations["prometheus.io/path"] = app.metrics.path;
  }

  return {
    // With an HPA: the count to start at on a live cluster, else left out
    // (deploymentIgnoresReplicas).
    ...(!app.autoscaling.enabled || deploymentIgnoresReplicas(app, refs.live ?? false)
      ? { replicas }
      : {}),
    selector: { matchLabels: selector },
    strategy: { type: "RollingUpdate", rollingUpdate: { ...ROLLING_UPDATE } },
    minReadySeconds: rollout.minReadySeconds,
    progressDeadlineSeconds: rollout.progressDeadlineSeconds,
    revisionHistoryLimit: 5,
    template: {
      metadata: { labels: appLabels(app, environment), annotations },
      spec: {
        serviceAccountName: refs.serviceAccountName,
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        securityContext: podSecurityContext(app.build.uid),
        terminationGracePeriodSeconds: terminationGracePeriodSeconds(rollout),
        ...(refs.pullSecretName !== undefined
          ? { imagePullSecrets: [{ name: refs.pullSecretName }] }
          : {}),
        ...(app.gpu ? { runtimeClassName: app.gpu.runtimeClassName } : {}),
        ...(replicas > 1
          ? {
              topologySpreadConstraints: [
                {
                  maxSkew: 1,
                  topologyKey: "kubernetes.io/hostname",
                  whenUnsatisfiable: "ScheduleAnyway",
                  labelSelector: { matchLabels: selector },
                },
              ],
            }
          : {}),
        containers: [
          {
            name: app.name,
            image: refs.image,
            imagePullPolicy: "IfNotPresent",
            ...(ports.length > 0 ? { ports } : {}),
            ...(envFrom.length > 0 ? { envFrom } : {}),
            resources: {
              requests: {
                cpu: app.resources.requests.cpu,
                memory: app.resources.requests.memory,
                "ephemeral-storage": EPHEMERAL_STORAGE.request,
              },
              limits,
            },
            securityContext: containerSecurityContext(app.build.uid),
            ...probes(app),
            lifecycle: {
              // Let endpoints and Traefik stop routing here before the app gets SIGTERM.
              preStop: { exec: { command: ["sleep", String(rollout.drainSeconds)] } },
            },
            volumeMounts: [
              { name: "tmp", mountPath: SCRATCH_MOUNT_PATH },
              ...app.volumes.map((v) => ({ name: v.name, mountPath: v.mountPath })),
            ],
          },
        ],
        volumes: [
          { name: "tmp", emptyDir: { sizeLimit: TMP_SIZE_LIMIT } },
          ...app.volumes.map((v) => ({
            name: v.name,
            persistentVolumeClaim: { claimName: refs.claimNames?.[v.name] ?? v.name },
          })),
        ],
      },
    },
  };
}

/** ClusterIP Service of an HTTP app; Streamlit sessions stick to one pod (websocket state). */
export function serviceSpec(
  app: AppSettings,
  environment: Environment,
): { spec: k8s.types.input.core.v1.ServiceSpec; annotations: Record<string, string> } {
  const ports: k8s.types.input.core.v1.ServicePort[] = [
    { name: HTTP_PORT_NAME, port: 80, targetPort: HTTP_PORT_NAME, protocol: "TCP" },
  ];
  if (app.metrics && app.metrics.port !== app.port) {
    ports.push({
      name: METRICS_PORT_NAME,
      port: app.metrics.port,
      targetPort: METRICS_PORT_NAME,
      protocol: "TCP",
    });
  }
  const annotations: Record<string, string> =
    app.kind === "streamlit"
      ? {
          "traefik.ingress.kubernetes.io/service.sticky.cookie": "true",
          "traefik.ingress.kubernetes.io/service.sticky.cookie.name": `${app.name}-session`,
          "traefik.ingress.kubernetes.io/service.sticky.cookie.httponly": "true",
        }
      : {};
  return {
    spec: { type: "ClusterIP", selector: selectorLabels(app.name, environment), ports },
    annotations,
  };
}

/** Traefik Ingress of an HTTP app; TLS from a named secret or a cert-manager issuer. */
export function ingressSpec(
  app: AppSettings,
  serviceName: pulumi.Input<string>,
): { spec: k8s.types.input.networking.v1.IngressSpec; annotations: Record<string, string> } {
  const host = app.ingress.host;
  if (host === undefined) throw new Error(`app "${app.name}" has ingress enabled but no host`);
  const tls = app.ingress.tlsSecretName !== undefined || app.ingress.clusterIssuer !== undefined;
  const annotations: Record<string, string> = {};
  if (tls) {
    annotations["traefik.ingress.kubernetes.io/router.entrypoints"] = "websecure";
    annotations["traefik.ingress.kubernetes.io/router.tls"] = "true";
  }
  if (app.ingress.clusterIssuer !== undefined) {
    annotations["cert-manager.io/cluster-issuer"] = app.ingress.clusterIssuer;
  }
  return {
    annotations,
    spec: {
      ingressClassName: "traefik",
      rules: [
        {
          host,
          http: {
            paths: [
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: serviceName, port: { name: HTTP_PORT_NAME } } },
              },
            ],
          },
        },
      ],
      ...(tls
        ? { tls: [{ hosts: [host], secretName: app.ingress.tlsSecretName ?? `${app.name}-tls` }] }
        : {}),
    },
  };
}

/** autoscaling/v2 HPA on CPU (and memory when configured). */
export function hpaSpec(
  app: AppSettings,
  deploymentName: pulumi.Input<string>,
): k8s.types.input.autoscaling.v2.HorizontalPodAutoscalerSpec {
  const metrics: k8s.types.input.autoscaling.v2.MetricSpec[] = [
    {
      type: "Resource",
      resource: {
        name: "cpu",
        target: { type: "Utilization", averageUtilization: app.autoscaling.cpuUtilization },
      },
    },
  ];
  if (app.autoscaling.memoryUtilization !== undefined) {
    metrics.push({
      type: "Resource",
      resource: {
        name: "memory",
        target: { type: "Utilization", averageUtilization: app.autoscaling.memoryUtilization },
      },
    });
  }
  return {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deploymentName },
    minReplicas: app.autoscaling.minReplicas,
    maxReplicas: app.autoscaling.maxReplicas,
    metrics,
  };
}

/** PDB allowing one voluntary disruption at a time: never zero, never all. */
export function pdbSpec(
  app: AppSettings,
  environment: Environment,
): k8s.types.input.policy.v1.PodDisruptionBudgetSpec {
  return { maxUnavailable: 1, selector: { matchLabels: selectorLabels(app.name, environment) } };
}

/** Ingress allowed from Traefik and declared peer namespaces; egress open or DNS-only. */
export function networkPolicySpec(
  app: AppSettings,
  environment: Environment,
  egressOpen: boolean,
): k8s.types.input.networking.v1.NetworkPolicySpec {
  const ports: k8s.types.input.networking.v1.NetworkPolicyPort[] = [];
  if (app.port !== undefined) ports.push({ protocol: "TCP", port: HTTP_PORT_NAME });
  if (app.metrics && app.metrics.port !== app.port) {
    ports.push({ protocol: "TCP", port: METRICS_PORT_NAME });
  }
  const ingress: k8s.types.input.networking.v1.NetworkPolicyIngressRule[] = [];
  if (app.port !== undefined) {
    ingress.push({
      from: [
        {
          namespaceSelector: {
            matchLabels: { "kubernetes.io/metadata.name": INGRESS_CONTROLLER.namespace },
          },
          podSelector: { matchLabels: { ...INGRESS_CONTROLLER.podLabels } },
        },
      ],
      ports,
    });
  }
  if (app.allowFrom.length > 0 && ports.length > 0) {
    ingress.push({
      from: app.allowFrom.map((ns) => ({
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } },
      })),
      ports,
    });
  }
  return {
    podSelector: { matchLabels: selectorLabels(app.name, environment) },
    policyTypes: egressOpen ? ["Ingress"] : ["Ingress", "Egress"],
    ingress,
    ...(egressOpen
      ? {}
      : {
          egress: [
            {
              to: [
                {
                  namespaceSelector: {
                    matchLabels: { "kubernetes.io/metadata.name": "kube-system" },
                  },
                  podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                },
              ],
              ports: [
                { protocol: "UDP", port: 53 },
                { protocol: "TCP", port: 53 },
              ],
            },
            { to: [{ podSelector: {} }] },
          ],
        }),
  };
}

/** Namespace-wide default deny of ingress: every allowed path is an explicit policy. */
export function defaultDenySpec(): k8s.types.input.networking.v1.NetworkPolicySpec {
  return { podSelector: {}, policyTypes: ["Ingress"] };
}

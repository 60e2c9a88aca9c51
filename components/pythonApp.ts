/**
 * One Python app on k3s: ServiceAccount, ConfigMap, Secret, PVCs, Deployment, Service, Ingress,
 * HPA, PDB and NetworkPolicy, built from the pure specs in `workload.ts`. `pulumi up` waits for
 * the rollout and fails within the progress deadline when it does not become ready. Once it
 * is, the app's run history on this stage records the digest (components/runHistory.ts).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AppSettings, Environment, RolloutSettings } from "../stacks/types";
import { KIND_PRESETS } from "../stacks/presets";
import {
  ANNOTATIONS,
  appLabels,
  baselineReplicas,
  deploymentSpec,
  hpaSpec,
  ingressSpec,
  networkPolicySpec,
  pdbSpec,
  serviceSpec,
  deploymentIgnoresReplicas,
} from "../model/workload";
import type { RunRecord } from "../model/promotionGates";
import { RunHistory } from "./runHistory";
import { SmokeCheck, type SmokeRequest } from "./smokeCheck";

/** Arguments of {@link PythonApp}. */
export interface PythonAppArgs {
  /** The app's resolved settings. */
  app: AppSettings;
  /** Environment the app runs in. */
  environment: Environment;
  /** Namespace to deploy into. */
  namespace: pulumi.Input<string>;
  /** Rollout timing. */
  rollout: RolloutSettings;
  /** Image by digest (`repo@sha256:...`); tags are never deployed. */
  image: pulumi.Input<string>;
  /** The image's digest (`sha256:...`), when the caller has it. @default the digest in `image` */
  digest?: pulumi.Input<string>;
  /** Git SHA the image was built from, for the run history. @default unknown */
  revision?: string;
  /** Secret environment values (a secret Output), one per name in `app.secretNames`. @default none */
  secretEnv?: pulumi.Input<Record<string, string>>;
  /** Whether Secret objects are created; false in render mode. @default true */
  createSecrets?: boolean;
  /** Whether the objects go to a live cluster (false in render mode). @default true */
  live?: boolean;
  /** Image pull secret name. @default none */
  pullSecretName?: pulumi.Input<string>;
  /** Seconds Pulumi waits for the Deployment; must exceed `rollout.progressDeadlineSeconds`. */
  awaitTimeoutSeconds: number;
  /** Whether egress stays open (true) or is limited to DNS and the namespace. @default true */
  egressOpen?: boolean;
  /** Error hook of the Deployment, which explains a failed rollout. @default none */
  rolloutDiagnosis?: pulumi.ErrorHook;
  /**
   * Verify each rollout through the Ingress once Ready, sending the checks to `via` (the
   * ingress address) or else to the public URL. @default no verification
   */
  verification?: { via?: string };
}

/** Fixed name of an app's Secret, so operators can create it themselves in render mode. */
export function secretName(app: string): string {
  return `${app}-secrets`;
}

/** All Kubernetes objects of one app. */
export class PythonApp extends pulumi.ComponentResource {
  /** Deployment name. */
  readonly deploymentName: pulumi.Output<string>;
  /** Service name, for HTTP apps. */
  readonly serviceName: pulumi.Output<string | undefined>;
  /** Public URL, when an Ingress exists (known from the settings). */
  readonly url: string | undefined;
  /** The image reference the pods run. */
  readonly image: pulumi.Output<string>;
  /** The digests this stage ran, newest first (what the next stage's gates read). */
  readonly history: pulumi.Output<RunRecord[]>;

  constructor(name: string, args: PythonAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pyfleet:k8s:PythonApp", name, {}, opts);
    const { app, environment, rollout } = args;
    if (args.awaitTimeoutSeconds <= rollout.progressDeadlineSeconds) {
      throw new Error(
        `awaitTimeoutSeconds (${args.awaitTimeoutSeconds}) must exceed progressDeadlineSeconds ` +
          `(${rollout.progressDeadlineSeconds}) so Kubernetes reports the failure first`,
      );
    }
    const createSecrets = args.createSecrets ?? true;
    const live = args.live ?? true;
    const labels = appLabels(app, environment);
    const meta = (extra?: { annotations?: Record<string, string> }) => ({
      namespace: args.namespace,
      labels,
      ...(extra?.annotations && Object.keys(extra.annotations).length > 0
        ? { annotations: extra.annotations }
        : {}),
    });
    const child = { parent: this };

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      name,
      { metadata: meta(), automountServiceAccountToken: false },
      child,
    );

    const configMap =
      Object.keys(app.config).length > 0
        ? new k8s.core.v1.ConfigMap(name, { metadata: meta(), data: app.config }, child)
        : undefined;

    let secretRef: pulumi.Input<string> | undefined;
    if (app.secretNames.length > 0) {
      if (createSecrets) {
        if (args.secretEnv === undefined) {
          throw new Error(`app "${app.name}" declares secrets but no secret values were passed`);
        }
        const secret = new k8s.core.v1.Secret(
          name,
          {
            metadata: { ...meta(), name: secretName(app.name) },
            type: "Opaque",
            stringData: pulumi.secret(args.secretEnv),
          },
          child,
        );
        secretRef = secret.metadata.name;
      } else {
        secretRef = secretName(app.name);
      }
    }

    const claimNames: Record<string, pulumi.Input<string>> = {};
    for (const volume of app.volumes) {
      const claim = new k8s.core.v1.PersistentVolumeClaim(
        `${name}-${volume.name}`,
        {
          metadata: meta(),
          spec: {
            accessModes: ["ReadWriteOnce"],
            storageClassName: volume.storageClass,
            resources: { requests: { storage: volume.size } },
          },
        },
        // Data outlives the app: removing a volume or the stack never deletes the claim.
        { ...child, retainOnDelete: true },
      );
      claimNames[volume.name] = claim.metadata.name;
    }

    const deployment = new k8s.apps.v1.Deployment(
      name,
      {
        metadata: meta({
          annotations: {
            ...(app.version !== undefined ? { [ANNOTATIONS.version]: app.version } : {}),
          },
        }),
        spec: deploymentSpec(app, environment, rollout, {
          image: args.image,
          serviceAccountName: serviceAccount.metadata.name,
          ...(configMap ? { configMapName: configMap.metadata.name } : {}),
          ...(secretRef !== undefined ? { secretName: secretRef } : {}),
          ...(args.pullSecretName !== undefined ? { pullSecretName: args.pullSecretName } : {}),
          claimNames,
          live,
        }),
      },
      {
        ...child,
        ...(deploymentIgnoresReplicas(app, live) ? { ignoreChanges: ["spec.replicas"] } : {}),
        ...(args.rolloutDiagnosis ? { hooks: { onError: [args.rolloutDiagnosis] } } : {}),
        customTimeouts: {
          create: `${args.awaitTimeoutSeconds}s`,
          update: `${args.awaitTimeoutSeconds}s`,
        },
      },
    );

    let serviceName: pulumi.Output<string | undefined> = pulumi.output(undefined);
    let url: string | undefined;
    let ingress: k8s.networking.v1.Ingress | undefined;
    if (KIND_PRESETS[app.kind].http) {
      const svc = serviceSpec(app, environment);
      const service = new k8s.core.v1.Service(
        name,
        { metadata: meta({ annotations: svc.annotations }), spec: svc.spec },
        child,
      );
      serviceName = service.metadata.name;
      if (app.ingress.enabled) {
        const ing = ingressSpec(app, service.metadata.name);
        ingress = new k8s.networking.v1.Ingress(
          name,
          { metadata: meta({ annotations: ing.annotations }), spec: ing.spec },
          child,
        );
        const tls = ing.spec.tls !== undefined;
        url = `${tls ? "https" : "http"}://${app.ingress.host ?? ""}/`;
      }
    }

    if (app.autoscaling.enabled) {
      new k8s.autoscaling.v2.HorizontalPodAutoscaler(
        name,
        { metadata: meta(), spec: hpaSpec(app, deployment.metadata.name) },
        child,
      );
    }
    if (baselineReplicas(app) > 1) {
      new k8s.policy.v1.PodDisruptionBudget(
        name,
        { metadata: meta(), spec: pdbSpec(app, environment) },
        child,
      );
    }
    new k8s.networking.v1.NetworkPolicy(
      name,
      { metadata: meta(), spec: networkPolicySpec(app, environment, args.egressOpen ?? true) },
      child,
    );

    const digest =
      args.digest ??
      pulumi.output(args.image).apply((image) => image.slice(image.indexOf("@") + 1));
    // Verified where users meet it, once Ready; apps without an Ingress have nothing to ask.
    const requests = ingress && args.verification ? smokeRequests(app, args.verification) : [];
    const smoke =
      ingress && args.verification && requests.length > 0
        ? new SmokeCheck(
            `${name}-verification`,
            { digest, requests },
            { parent: this, dependsOn: [deployment, ingress] },
          )
        : undefined;
    if (smoke) {
      // The failure is recorded first (the history below), then fails the update.
      smoke.verification.apply((v) => {
        if (v !== undefined && !v.passed) {
          void pulumi.log.error(
            `${app.name}: verification of the rollout failed: ${v.failures.join("; ")}; the ` +
              "digest is recorded as not verified, so no gated stage takes it",
            smoke,
          );
        }
      });
    }
    // Recorded once the rollout is Ready: a failed one never enters the history.
    const history = new RunHistory(
      `${name}-history`,
      {
        digest,
        ...(app.version !== undefined ? { version: app.version } : {}),
        ...(args.revision !== undefined ? { revision: args.revision } : {}),
        ...(smoke ? { verification: smoke.verification } : {}),
      },
      { parent: this, dependsOn: [deployment] },
    );

    this.deploymentName = deployment.metadata.name;
    this.serviceName = serviceName;
    this.url = url;
    // Lifting an Output again would cost another apply; only a plain reference needs one.
    this.image = pulumi.Output.isInstance(args.image)
      ? (args.image as pulumi.Output<string>)
      : pulumi.output(args.image);
    this.history = history.history;
    this.registerOutputs({
      deploymentName: this.deploymentName,
      serviceName: this.serviceName,
      url: this.url,
      image: this.image,
      history: this.history,
    });
  }
}

/** The requests that verify an app: its readiness path and its smoke path, via its host. */
export function smokeRequests(app: AppSettings, verification: { via?: string }): SmokeRequest[] {
  const host = app.ingress.host;
  if (host === undefined) return [];
  const tls = app.ingress.tlsSecretName !== undefined || app.ingress.clusterIssuer !== undefined;
  const base = verification.via ?? `${tls ? "https" : "http"}://${host}`;
  const paths = [app.health.readinessPath, app.health.smokePath].filter(
    (p): p is string => p !== undefined,
  );
  return [...new Set(paths)].map((p) => ({ url: `${base}${p}`, host }));
}

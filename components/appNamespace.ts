/**
 * The environment's namespace: restricted Pod Security, a default-deny ingress policy, and the
 * registry pull secret every app shares.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { defaultDenySpec } from "../model/workload";
import {
  APP_LABEL,
  ENVIRONMENT_LABEL,
  POD_SECURITY_LABELS,
  isSystemNamespace,
} from "../policy/vocabulary";

/** Fixed name of the registry pull secret: operators create it themselves in render mode. */
export const PULL_SECRET_NAME = "pyfleet-registry";

/** Registry credentials for image pulls. */
export interface PullCredentials {
  /** Registry `host[:port]`. */
  server: string;
  /** User name. */
  username: string;
  /** Password or token (a secret). */
  password: pulumi.Input<string>;
}

/** Arguments of {@link AppNamespace}. */
export interface AppNamespaceArgs {
  /** Namespace name; neither `default` nor `kube-system`. */
  name: string;
  /** Environment label value. */
  environment: string;
  /** Registry credentials; a dockerconfigjson Secret is created when set. @default none */
  pullCredentials?: PullCredentials;
  /** Whether Secret objects may be created (false in render mode, where files are plain text). @default true */
  createSecrets?: boolean;
  /**
   * Keep the namespace when the stack is destroyed. Set when it holds claims kept on purpose:
   * deleting a namespace deletes every claim in it, and local-path then deletes their data.
   * @default false
   */
  retainOnDelete?: boolean;
}

/** Namespace, default-deny NetworkPolicy and optional pull secret. */
export class AppNamespace extends pulumi.ComponentResource {
  /** The namespace name. */
  readonly name: pulumi.Output<string>;
  /** The pull secret name, when the registry needs credentials. */
  readonly pullSecretName?: pulumi.Output<string>;

  constructor(name: string, args: AppNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pyfleet:k8s:AppNamespace", name, {}, opts);
    if (isSystemNamespace(args.name)) {
      throw new Error(
        `namespace must not be "${args.name}": pyfleet apps get their own namespace (pyfleet:namespace)`,
      );
    }
    const namespace = new k8s.core.v1.Namespace(
      name,
      {
        metadata: {
          // Fixed: people, policies and other stacks address the namespace by this name.
          name: args.name,
          labels: {
            ...POD_SECURITY_LABELS,
            [APP_LABEL.partOf]: "pyfleet",
            [APP_LABEL.managedBy]: "pulumi",
            [ENVIRONMENT_LABEL]: args.environment,
          },
        },
      },
      { parent: this, ...(args.retainOnDelete ? { retainOnDelete: true } : {}) },
    );
    new k8s.networking.v1.NetworkPolicy(
      `${name}-default-deny`,
      {
        metadata: { namespace: namespace.metadata.name, name: "default-deny-ingress" },
        spec: defaultDenySpec(),
      },
      { parent: this },
    );

    let pullSecretName: pulumi.Output<string> | undefined;
    if (args.pullCredentials) {
      const { server, username, password } = args.pullCredentials;
      if (args.createSecrets ?? true) {
        const dockerconfig = pulumi.output(password).apply((pw) =>
          JSON.stringify({
            auths: {
              [server]: {
                username,
                password: pw,
                auth: Buffer.from(`${username}:${pw}`).toString("base64"),
              },
            },
          }),
        );
        const secret = new k8s.core.v1.Secret(
          `${name}-registry`,
          {
            metadata: { namespace: namespace.metadata.name, name: PULL_SECRET_NAME },
            type: "kubernetes.io/dockerconfigjson",
            stringData: { ".dockerconfigjson": pulumi.secret(dockerconfig) },
          },
          { parent: this },
        );
        pullSecretName = secret.metadata.name;
      } else {
        pullSecretName = pulumi.output(PULL_SECRET_NAME);
      }
    }

    this.name = namespace.metadata.name;
    this.pullSecretName = pullSecretName;
    this.registerOutputs({ name: this.name, pullSecretName: this.pullSecretName });
  }
}

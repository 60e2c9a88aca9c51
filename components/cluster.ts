/**
 * The Kubernetes provider: a live cluster from a kubeconfig secret or a context, or, when no
 * cluster is configured, YAML rendered into a folder (the embedded default).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterTarget } from "../stacks/types";

/** Arguments of {@link KubernetesTarget}. */
export interface KubernetesTargetArgs {
  /** Live cluster or render folder. */
  target: ClusterTarget;
  /** Kubeconfig contents (a secret), required for `kubeconfig` mode. */
  kubeconfig?: pulumi.Input<string>;
}

/** Creates the provider every Kubernetes object of the program uses. */
export function kubernetesProvider(
  name: string,
  args: KubernetesTargetArgs,
  opts?: pulumi.CustomResourceOptions,
): k8s.Provider {
  const { target } = args;
  switch (target.mode) {
    case "render":
      return new k8s.Provider(name, { renderYamlToDirectory: target.directory }, opts);
    case "kubeconfig":
      if (args.kubeconfig === undefined) {
        throw new Error("cluster mode kubeconfig needs the kubeconfig secret (pyfleet:kubeconfig)");
      }
      return new k8s.Provider(
        name,
        {
          kubeconfig: args.kubeconfig,
          ...(target.context !== undefined ? { context: target.context } : {}),
          deleteUnreachable: false,
        },
        opts,
      );
    case "context":
      // The provider takes a kubeconfig file's path as well as its contents; without one it
      // reads $KUBECONFIG or ~/.kube/config, as kubectl does.
      return new k8s.Provider(
        name,
        {
          ...(target.context !== undefined ? { context: target.context } : {}),
          ...(target.kubeconfigPath !== undefined ? { kubeconfig: target.kubeconfigPath } : {}),
        },
        opts,
      );
  }
}

/** Whether objects go to files rather than a cluster (Secrets are then kept out). */
export function isRenderMode(target: ClusterTarget): boolean {
  return target.mode === "render";
}

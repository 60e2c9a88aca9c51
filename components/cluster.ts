/**
 * The Kubernetes provider: a live cluster from a kubeconfig secret or a context, or, when no
 * cluster is configured, YAML rendered into a folder (the embedded default).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { rolloutReasons, type ObservedObject } from "../model/rolloutReasons";
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

/** Environment variable naming the kubectl the rollout diagnosis runs; else `kubectl` on PATH. */
export const KUBECTL_VARIABLE = "PYFLEET_KUBECTL";

/**
 * An error hook for Deployments: when a create or update fails (the rollout did not become
 * ready in time), it asks the cluster why, with kubectl, and reports the cause under the
 * provider's message: pods refused by admission, an image that does not pull, a container
 * that exits, a failing probe. It never retries. Undefined in render mode.
 */
export async function rolloutDiagnosis(
  target: ClusterTarget,
  kubeconfig?: pulumi.Input<string>,
): Promise<pulumi.ErrorHook | undefined> {
  if (target.mode === "render") return undefined;
  const hook = new pulumi.ErrorHook("pyfleet-rollout-diagnosis", async (args) => {
    if (args.type !== "kubernetes:apps/v1:Deployment") return false;
    const metadata = (args.newInputs?.["metadata"] ?? {}) as { name?: string; namespace?: string };
    if (!metadata.name || !metadata.namespace) return false;
    const contents =
      target.mode === "kubeconfig" && kubeconfig !== undefined
        ? await new Promise<string>((done) => pulumi.output(kubeconfig).apply(done))
        : undefined;
    const text = diagnose(metadata.namespace, metadata.name, {
      ...(target.context !== undefined ? { context: target.context } : {}),
      ...(target.mode === "context" && target.kubeconfigPath !== undefined
        ? { kubeconfigPath: target.kubeconfigPath }
        : {}),
      ...(contents !== undefined ? { contents } : {}),
    });
    await pulumi.log.error(text);
    return false;
  });
  // Some hosts claim error hooks and then refuse to register one (the Node.js language host
  // of sdk v3.68 with CLI 3.248 answers UNIMPLEMENTED): the program then runs without it.
  try {
    await (hook as unknown as { __registered: Promise<void> }).__registered;
    return hook;
  } catch (error) {
    const why = error instanceof Error ? error.message.split("\n")[0] : String(error);
    await pulumi.log.warn(
      `failed rollouts will not say why: this Pulumi host runs no error hooks (${why})`,
    );
    return undefined;
  }
}

/** How kubectl reaches the cluster. */
interface KubeAccess {
  context?: string;
  kubeconfigPath?: string;
  /** Kubeconfig contents (a secret): written to a private file for the call, then removed. */
  contents?: string;
}

function diagnose(namespace: string, name: string, access: KubeAccess): string {
  const head = `Deployment ${namespace}/${name} did not become ready`;
  const describe = `kubectl -n ${namespace} describe deployment ${name}`;
  const kubectl = process.env[KUBECTL_VARIABLE]?.trim() ?? "";
  const dir = access.contents !== undefined ? mkdtempSync(path.join(tmpdir(), "pyfleet-")) : "";
  try {
    let kubeconfig = access.kubeconfigPath;
    if (access.contents !== undefined) {
      kubeconfig = path.join(dir, "kubeconfig");
      writeFileSync(kubeconfig, access.contents, { mode: 0o600 });
    }
    const get = (...what: string[]) =>
      JSON.parse(
        execFileSync(
          kubectl === "" ? "kubectl" : kubectl,
          [
            ...(kubeconfig !== undefined ? ["--kubeconfig", kubeconfig] : []),
            ...(access.context !== undefined ? ["--context", access.context] : []),
            "-n",
            namespace,
            "get",
            ...what,
            "-o",
            "json",
          ],
          { encoding: "utf8", timeout: 20_000, stdio: ["ignore", "pipe", "pipe"] },
        ),
      ) as ObservedObject & { items?: ObservedObject[] };
    const deployment = get("deployment", name);
    const related = get("replicasets,pods").items ?? [];
    const events = get("events", "--field-selector", "type=Warning").items ?? [];
    const reasons = rolloutReasons(deployment, related, events);
    return reasons.length > 0
      ? `${head}; the cluster says:\n${reasons.map((r) => `  - ${r}`).join("\n")}`
      : `${head}; the cluster names no cause (see: ${describe})`;
  } catch (error) {
    const why = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return `${head}; asking the cluster why failed (${why}); see: ${describe}`;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

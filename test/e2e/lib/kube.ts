/**
 * What the cluster scenarios observe the cluster with: kubectl (the one built with it) for
 * objects, exec and server-side dry runs, and plain HTTP through the Traefik entrypoint on
 * host loopback with the Ingress host as Host header, as a user's browser would send it.
 */
import * as http from "node:http";
import type { LocalCluster } from "../../../infra/cluster";
import type { Finished, Processes } from "./processes";

/** One Kubernetes object as `kubectl get -o json` returns it (the fields the checks read). */
export interface KubeObject {
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    generation?: number;
    deletionTimestamp?: string;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** An HTTP answer: the status (0 when the request failed) and the error or first body bytes. */
export interface HttpAnswer {
  status: number;
  text: string;
}

/** kubectl and HTTP against one cluster. */
export class Kube {
  constructor(
    private readonly cluster: LocalCluster,
    private readonly processes: Processes,
  ) {}

  /** Environment that points kubectl and Pulumi's kubernetes provider at the cluster. */
  get env(): Record<string, string> {
    return { KUBECONFIG: this.cluster.kubeconfig };
  }

  /** `kubectl <args>` with a time limit. */
  kubectl(args: string[], timeoutSeconds = 120, input?: string): Promise<Finished> {
    return this.processes.run(
      this.cluster.kubectl,
      ["--kubeconfig", this.cluster.kubeconfig, "--request-timeout=30s", ...args],
      { timeoutSeconds, ...(input !== undefined ? { input } : {}) },
    );
  }

  /** The objects of `kind` in `namespace` (every namespace when undefined); [] on failure. */
  async list(kind: string, namespace?: string, selector?: string): Promise<KubeObject[]> {
    const scope = namespace === undefined ? ["--all-namespaces"] : ["-n", namespace];
    const run = await this.kubectl([
      "get",
      kind,
      ...scope,
      ...(selector ? ["-l", selector] : []),
      "-o",
      "json",
    ]);
    if (run.status !== 0) return [];
    return (JSON.parse(run.stdout) as { items: KubeObject[] }).items;
  }

  /** One object, or undefined when it is not there. */
  async get(kind: string, name: string, namespace?: string): Promise<KubeObject | undefined> {
    const run = await this.kubectl([
      "get",
      kind,
      name,
      ...(namespace ? ["-n", namespace] : []),
      "-o",
      "json",
    ]);
    return run.status === 0 ? (JSON.parse(run.stdout) as KubeObject) : undefined;
  }

  /** GET `path` on the Ingress entrypoint with `host` as Host header. */
  viaIngress(host: string, path: string, timeoutMs = 5000): Promise<HttpAnswer> {
    const url = new URL(path, this.cluster.ingress);
    return httpGet(url, host, timeoutMs);
  }

  /** GET `path` through the apiserver's proxy to a Service port (the Service's own routing). */
  async viaService(
    namespace: string,
    service: string,
    port: string,
    path: string,
  ): Promise<HttpAnswer> {
    const run = await this.kubectl(
      ["get", "--raw", `/api/v1/namespaces/${namespace}/services/${service}:${port}/proxy${path}`],
      30,
    );
    return { status: run.status === 0 ? 200 : 0, text: (run.stdout || run.stderr).slice(0, 300) };
  }
}

function httpGet(url: URL, host: string, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    const req = http.get(url, { headers: { host }, timeout: timeoutMs }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        if (text.length < 300) text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: text.slice(0, 300) }));
      res.on("error", (e) => resolve({ status: 0, text: String(e) }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on("error", (e) => resolve({ status: 0, text: String(e) }));
  });
}

/**
 * Polls `probe` every `intervalMs` until `done()` says stop or `maxPolls` ran (a bounded
 * loop), returning every answer's status.
 */
export async function pollWhile(
  probe: () => Promise<HttpAnswer>,
  done: () => boolean,
  intervalMs: number,
  maxPolls: number,
): Promise<HttpAnswer[]> {
  const answers: HttpAnswer[] = [];
  for (let i = 0; i < maxPolls && !done(); i++) {
    answers.push(await probe());
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return answers;
}

/**
 * The local k3s-shaped cluster (infra/cluster.sh) as the quick start and the end-to-end
 * harness use it: started when missing, reused when running, and stopped at the end only by
 * the run that started it.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { ROOT, spawnStatus } from "./localEnv";

/** The kubeconfig context infra/cluster.sh writes. */
export const CLUSTER_CONTEXT = "pyfleet";

/**
 * Requests small enough for the one-node local cluster to hold every stack at once (dev,
 * staging and prod, two or three replicas of each app, on two CPUs). The quick start and the
 * end-to-end harness set them per app, as a user's local settings would.
 */
export const LOCAL_CLUSTER_APP_RESOURCES = {
  requests: { cpu: "50m", memory: "192Mi" },
  limits: { cpu: "1", memory: "1Gi" },
};

/** A running local cluster. */
export interface LocalCluster {
  /** Kubeconfig file for the host (apiserver on 127.0.0.1). */
  kubeconfig: string;
  /** Its context, the stacks' `pyfleet:kubeContext`. */
  context: string;
  /** Traefik's web entrypoint on host loopback, `http://127.0.0.1:<port>`. */
  ingress: string;
  /** The kubectl built with the cluster. */
  kubectl: string;
  /** A small image every node has (busybox), for probe pods. */
  busybox: string;
  /** Whether this run started it (else it was running and is left running). */
  startedHere: boolean;
  /**
   * The pid of one of its daemons (`kubelet`, `kube-apiserver`, `containerd`, ...), as
   * infra/cluster.sh recorded it, while that pid still runs the recorded command line.
   */
  daemonPid(name: string): number | undefined;
  /** Starts whatever of it is not running (a daemon that was stopped), and waits for it. */
  restore(): void;
  /** Stops it when this run started it. */
  stop(): void;
}

const SCRIPT = path.join(ROOT, "infra", "cluster.sh");

function log(message: string): void {
  process.stderr.write(`[local-cluster] ${message}\n`);
}

/**
 * Why this machine cannot run the local cluster (it needs root for the network namespace,
 * mounts and cgroups, and `ip` for the namespace), or undefined when it can.
 */
export function clusterUnsupported(): string | undefined {
  if (process.getuid?.() !== 0) return "the local cluster needs root (network namespace, mounts)";
  if (!["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].some((p) => existsSync(p))) {
    return "the local cluster needs `ip` (iproute2) for its network namespace";
  }
  return undefined;
}

/**
 * Starts the cluster (building its parts on first use, with progress on stderr) pulling from
 * the registry on `registry` (`127.0.0.1:<port>`), or reuses the running one.
 */
export function startCluster(registry: string): LocalCluster {
  const port = /:(\d+)$/.exec(registry)?.[1];
  if (port === undefined) throw new Error(`registry address ${registry} names no port`);
  const env = { ...process.env, PYFLEET_REGISTRY_PORT: port };
  const wasRunning = spawnStatus(SCRIPT, ["env"], env) === 0;
  log(wasRunning ? "reusing the running cluster" : "starting the cluster");
  const out = execFileSync("bash", [SCRIPT, "start"], {
    encoding: "utf8",
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const value = (key: string) => {
    const line = out.split("\n").find((l) => l.startsWith(`${key}=`));
    if (!line) throw new Error(`infra/cluster.sh start did not print ${key}=`);
    return line.slice(key.length + 1).trim();
  };
  const bin = execFileSync(
    "bash",
    [path.join(ROOT, "infra", "cluster", "build.sh"), "--bin", "kubernetes"],
    {
      encoding: "utf8",
      env,
    },
  ).trim();
  const kubeconfig = value("KUBECONFIG");
  const pids = path.join(path.dirname(kubeconfig), "pids");
  return {
    kubeconfig,
    context: CLUSTER_CONTEXT,
    ingress: value("PYFLEET_INGRESS"),
    kubectl: path.join(bin, "kubectl"),
    busybox: value("PYFLEET_CLUSTER_BUSYBOX"),
    startedHere: !wasRunning,
    daemonPid(name) {
      try {
        const pid = Number(readFileSync(path.join(pids, `${name}.pid`), "utf8").trim());
        const want = readFileSync(path.join(pids, `${name}.cmdline`), "utf8");
        const got = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
        return got === want ? pid : undefined;
      } catch {
        return undefined;
      }
    },
    restore() {
      execFileSync("bash", [SCRIPT, "start"], { env, stdio: ["ignore", "ignore", "inherit"] });
    },
    stop() {
      if (wasRunning) return;
      log("stopping the cluster this run started");
      spawnStatus(SCRIPT, ["stop"], env);
    },
  };
}

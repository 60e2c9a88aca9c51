/**
 * Per-kind presets: the port, health endpoints and start command each kind of Python app gets
 * unless the catalogue overrides them. Pure data and functions, shared by the Dockerfile
 * generator and the Kubernetes probes so the HEALTHCHECK and the probes can never disagree.
 */
import type { AppKind, Flavour } from "./types";

/** Defaults of one app kind. */
export interface KindPreset {
  /** Container port, absent for workers. */
  port?: number;
  /** Startup probe path. */
  startupPath: string;
  /** Readiness probe path. */
  readinessPath: string;
  /** Liveness probe path. */
  livenessPath: string;
  /** Entrypoint used when the catalogue names none. */
  entrypoint: string;
  /** Whether the kind serves HTTP (and so gets a Service, Ingress and HTTP probes). */
  http: boolean;
}

/** Presets per kind. Streamlit's own health route is /_stcore/health. */
export const KIND_PRESETS: Readonly<Record<AppKind, KindPreset>> = {
  streamlit: {
    port: 8501,
    startupPath: "/_stcore/health",
    readinessPath: "/_stcore/health",
    livenessPath: "/_stcore/health",
    entrypoint: "app.py",
    http: true,
  },
  fastapi: {
    port: 8000,
    startupPath: "/health",
    readinessPath: "/ready",
    livenessPath: "/health",
    entrypoint: "main:app",
    http: true,
  },
  flask: {
    port: 8000,
    startupPath: "/health",
    readinessPath: "/health",
    livenessPath: "/health",
    entrypoint: "app:app",
    http: true,
  },
  worker: {
    startupPath: "",
    readinessPath: "",
    livenessPath: "",
    entrypoint: "worker",
    http: false,
  },
};

/**
 * Seconds the startup probe allows by default. A conda environment is larger to map in, and
 * Streamlit imports pandas and pyarrow before it answers.
 */
export function defaultStartupBudgetSeconds(kind: AppKind, flavour: Flavour): number {
  const base = kind === "streamlit" ? 120 : 60;
  return flavour === "conda" ? base * 2 : base;
}

/** File a worker touches at least every HEARTBEAT_MAX_AGE_SECONDS / 2 seconds while healthy. */
export const HEARTBEAT_FILE = "/tmp/heartbeat";
/** Age after which a worker's heartbeat counts as stale. */
export const HEARTBEAT_MAX_AGE_SECONDS = 60;

/** The exec command that checks a worker's heartbeat: used by HEALTHCHECK and by the probes. */
export function heartbeatCommand(): string[] {
  return [
    "python",
    "-c",
    `import os,sys,time; sys.exit(0 if time.time() - os.path.getmtime("${HEARTBEAT_FILE}") < ${HEARTBEAT_MAX_AGE_SECONDS} else 1)`,
  ];
}

/** The exec command that GETs a local HTTP path; the images carry no curl. */
export function httpCheckCommand(port: number, path: string): string[] {
  return [
    "python",
    "-c",
    `import sys,urllib.request; sys.exit(0 if urllib.request.urlopen("http://127.0.0.1:${port}${path}", timeout=3).status == 200 else 1)`,
  ];
}

/**
 * Writable locations each kind needs under /tmp, so the root filesystem can be read-only and a
 * single emptyDir at /tmp covers them all.
 */
export const WRITABLE_ENV: Readonly<Record<string, string>> = {
  HOME: "/tmp/home",
  TMPDIR: "/tmp",
  NUMBA_CACHE_DIR: "/tmp/numba-cache",
  MPLCONFIGDIR: "/tmp/matplotlib",
  XDG_CACHE_HOME: "/tmp/cache",
};

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

/**
 * An HTTP path as probes and the HEALTHCHECK use it: RFC 3986 path and query characters only.
 * No quote, backslash, space or control character, so a path spliced into the HEALTHCHECK's
 * Python string can never end that string and run code.
 */
export const HTTP_PATH = /^\/[A-Za-z0-9\-._~%!$&'()*+,;=:@/?]*$/;

/**
 * What each kind's entrypoint may be. It becomes one argument of the exec-form CMD, so it can
 * never start a shell, but it must not start with '-' either (it would be read as an option).
 */
export const ENTRYPOINT_GRAMMAR: Readonly<Record<AppKind, { pattern: RegExp; example: string }>> = {
  streamlit: {
    pattern: /^(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9_][A-Za-z0-9_./-]*\.py$/,
    example: "a script inside the app folder such as app.py or pages/main.py",
  },
  fastapi: {
    pattern: /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$/,
    example: "module:attribute such as vectors.main:app",
  },
  flask: {
    pattern: /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*(\(\))?$/,
    example: "module:attribute such as app:app (or a factory, app:create_app())",
  },
  worker: {
    pattern: /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/,
    example: "a Python module such as jobs or jobs.worker",
  },
};

/** Why `entrypoint` is not valid for `kind`, or undefined when it is. */
export function entrypointError(kind: AppKind, entrypoint: string): string | undefined {
  const grammar = ENTRYPOINT_GRAMMAR[kind];
  return grammar.pattern.test(entrypoint)
    ? undefined
    : `a ${kind} entrypoint must be ${grammar.example}`;
}

/** Where the Python environment lives in each flavour. */
export const ENV_PREFIX: Readonly<Record<Flavour, string>> = {
  pip: "/opt/venv",
  // Under the micromamba image's own root prefix, which its non-root user owns.
  conda: "/opt/conda/envs/app",
};

/** Environment variables the runtime image sets and relies on; app config must not override them. */
export function runtimeEnvVars(flavour: Flavour): [string, string][] {
  const prefix = ENV_PREFIX[flavour];
  return [
    ["PYTHONUNBUFFERED", "1"],
    ["PYTHONDONTWRITEBYTECODE", "1"],
    ["PIP_DISABLE_PIP_VERSION_CHECK", "1"],
    ["PIP_NO_CACHE_DIR", "1"],
    ...(flavour === "pip" ? ([["VIRTUAL_ENV", prefix]] as [string, string][]) : []),
    ["PATH", `${prefix}/bin:$PATH`],
    ...Object.entries(WRITABLE_ENV),
  ];
}

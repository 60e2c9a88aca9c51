/**
 * crane (go-containerregistry), the registry client of pyfleet's dynamic resources. A session
 * runs crane for one repository: plain HTTP on loopback only, docker's credential helpers and
 * token auth, or explicit credentials through a private docker config removed by `close`.
 * Self-contained (requires inside): Pulumi serializes it into the dynamic providers.
 */

/** Environment variable naming the crane binary (infra/crane.sh builds one); else PATH's. */
export const CRANE_VARIABLE = "PYFLEET_CRANE";

/** crane calls for one repository. */
export interface CraneSession {
  /** `crane <args>`; resolves to its stdout, rejects with its stderr. */
  run(args: string[]): Promise<string>;
  /** Removes the private docker config, if any. */
  close(): void;
}

/**
 * The registry host of `reference` (`host[:port]/path...`) and whether it is on loopback, the
 * only place where plain HTTP is allowed.
 */
export function registryHost(reference: string): { host: string; loopback: boolean } {
  const host = reference.slice(0, reference.indexOf("/"));
  return { host, loopback: /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(host) };
}

/**
 * Writes a docker config into `dir` (private to its owner) that logs in to `host` as
 * `username`; point DOCKER_CONFIG at `dir` to use it. crane, cosign and syft all read it.
 */
export function writeDockerAuth(dir: string, host: string, username: string, password: string) {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const fs = require("node:fs") as typeof import("node:fs");
  const nodePath = require("node:path") as typeof import("node:path");
  /* eslint-enable @typescript-eslint/no-require-imports */
  const auth = Buffer.from(`${username}:${password}`).toString("base64");
  fs.writeFileSync(
    nodePath.join(dir, "config.json"),
    JSON.stringify({ auths: { [host]: { auth } } }),
    {
      mode: 0o600,
    },
  );
}

/** Opens a session for `repository` (`host[:port]/path`). */
export function craneSession(
  repository: string,
  username?: string,
  password?: string,
): CraneSession {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { execFile } = require("node:child_process") as typeof import("node:child_process");
  const fs = require("node:fs") as typeof import("node:fs");
  const os = require("node:os") as typeof import("node:os");
  const nodePath = require("node:path") as typeof import("node:path");
  /* eslint-enable @typescript-eslint/no-require-imports */
  const named = process.env["PYFLEET_CRANE"]?.trim() ?? "";
  const crane = named === "" ? "crane" : named;
  const { host, loopback } = registryHost(repository);
  const env = { ...process.env };
  let dir: string | undefined;
  if (username !== undefined && password !== undefined) {
    dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "pyfleet-registry-"));
    writeDockerAuth(dir, host, username, password);
    env["DOCKER_CONFIG"] = dir;
  }
  return {
    run: (args) =>
      new Promise<string>((resolve, reject) =>
        execFile(
          crane,
          [...(loopback ? ["--insecure"] : []), ...args],
          { env, timeout: 120_000, maxBuffer: 64 * 2 ** 20 },
          (error, stdout, stderr) =>
            error
              ? reject(new Error(`crane ${args.join(" ")}: ${(stderr || error.message).trim()}`))
              : resolve(stdout.trim()),
        ),
      ),
    close: () => {
      if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

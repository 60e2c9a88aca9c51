/**
 * Each pip image runs as the cluster runs it: read-only root, no capabilities, no privilege
 * escalation; it answers its health endpoint, Docker's HEALTHCHECK turns healthy, and the
 * process runs as the image's non-root uid.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { healthcheckHealthy, imageAnswersHealth, runsAsUid } from "../checks";
import type { Context, Scenario } from "../lib/context";
import { waitFor } from "../lib/processes";

const APPS: [app: string, port: number, healthPath: string][] = [
  ["dashboard", 8501, "/_stcore/health"],
  ["vectors", 8000, "/health"],
];
const HEALTH_TIMEOUT = 120;
const HEALTHCHECK_TIMEOUT = 60;
const APP_UID = 10001;

function inspect(ctx: Context, name: string, format: string): string {
  const result = spawnSync(ctx.local.docker, ["inspect", "-f", format, name], {
    env: ctx.env,
    encoding: "utf8",
  });
  return result.status === 0 ? result.stdout.trim() : "";
}

function removeContainer(ctx: Context, name: string): void {
  spawnSync(ctx.local.docker, ["rm", "-f", name], { env: ctx.env, stdio: "ignore" });
}

function procStatus(pid: string): string {
  try {
    return /^\d+$/.test(pid) && pid !== "0" ? readFileSync(`/proc/${pid}/status`, "utf8") : "";
  } catch {
    return "";
  }
}

/** Runs each image hardened and probes it. */
export const imageRuntime: Scenario = {
  name: "image runtime",
  async run(ctx) {
    for (const [app, port, healthPath] of APPS) {
      const name = `pyfleet-e2e-${app}`;
      const title = `${app}: image runs read-only with no capabilities and answers ${healthPath} with 200`;
      const out = ctx.facts.devApps[app];
      if (!out) {
        ctx.recorder.check(imageAnswersHealth, title, {
          built: false,
          run: { status: 1, stderr: "" },
          seconds: undefined,
          timeoutSeconds: HEALTH_TIMEOUT,
        });
        continue;
      }
      removeContainer(ctx, name);
      ctx.processes.onCleanup(`container ${name}`, () => removeContainer(ctx, name));
      const started = await ctx.processes.run(
        ctx.local.docker,
        [
          "run",
          "-d",
          "--name",
          name,
          "--network",
          "host",
          "--read-only",
          "--tmpfs",
          "/tmp:rw,mode=1777",
          "--cap-drop",
          "ALL",
          "--security-opt",
          "no-new-privileges",
          out.image,
        ],
        { env: ctx.env, timeoutSeconds: 300 },
      );
      const seconds =
        started.status === 0
          ? await waitFor(async () => {
              try {
                return (await fetch(`http://127.0.0.1:${port}${healthPath}`)).status === 200;
              } catch {
                return false;
              }
            }, HEALTH_TIMEOUT)
          : undefined;
      ctx.recorder.figure(`${app}_healthy_seconds`, seconds ?? -1);
      ctx.recorder.check(imageAnswersHealth, title, {
        built: true,
        run: { status: started.status, stderr: started.stderr },
        seconds,
        timeoutSeconds: HEALTH_TIMEOUT,
      });
      let status = "";
      const healthy = await waitFor(() => {
        status = inspect(ctx, name, "{{.State.Health.Status}}");
        return status === "healthy";
      }, HEALTHCHECK_TIMEOUT);
      ctx.recorder.check(healthcheckHealthy, `${app}: Docker HEALTHCHECK reports healthy`, {
        status,
        seconds: healthy,
        timeoutSeconds: HEALTHCHECK_TIMEOUT,
      });
      const pid = inspect(ctx, name, "{{.State.Pid}}");
      ctx.recorder.check(runsAsUid, `${app}: the process runs as uid ${APP_UID}`, {
        pid,
        procStatus: procStatus(pid),
        uid: APP_UID,
      });
      removeContainer(ctx, name);
    }
  },
};

/**
 * Every process the harness starts goes through here: each runs in a process group of its
 * own (its pid is the group id), so stopping it by its pid also stops what it started (the
 * Pulumi CLI and its provider plugins). Cleanups run once, in reverse order, at the end of a
 * run or on SIGINT/SIGTERM, and every command has a time limit.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** A finished process. */
export interface Finished {
  /** Exit status; 1 when it was killed or could not start. */
  status: number;
  /** Its standard output. */
  stdout: string;
  /** Its standard error (and the reason it could not start or was stopped). */
  stderr: string;
  /** Wall time. */
  seconds: number;
}

/** How to run one process. */
export interface RunOptions {
  /** Working directory. @default the harness's */
  cwd?: string;
  /** Full environment. @default the harness's */
  env?: NodeJS.ProcessEnv;
  /** Time limit, after which the process group is stopped. @default 1800 */
  timeoutSeconds?: number;
  /** Text written to its standard input (else it reads nothing). */
  input?: string;
  /** Passes its standard error on to the harness's as it comes (long builds' progress). */
  echoStderr?: boolean;
}

const GRACE_MS = 10_000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Whether a process of the group led by `pgid` still runs. Zombies do not count: a leader
 * that exited is only reaped by the event loop, which a synchronous wait holds up.
 */
function groupAlive(pgid: number): boolean {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // Fields after the command name, which may hold spaces and parentheses: state ppid pgrp.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (pgrp === String(pgid) && state !== "Z" && state !== "X") return true;
  }
  return false;
}

/** Stops the process group led by `pid`: SIGTERM, then SIGKILL after a grace period. */
export function stopGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGTERM");
  } catch {
    return; // already gone
  }
  const deadline = Date.now() + GRACE_MS;
  while (groupAlive(pid) && Date.now() < deadline) sleepSync(100);
  if (groupAlive(pid)) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // gone in between
    }
  }
}

/** The processes and cleanups of one harness run. */
export class Processes {
  private readonly running = new Map<number, ChildProcess>();
  private readonly cleanups: { label: string; fn: () => void }[] = [];
  private stopped = false;

  /** Runs a command to its end (or its time limit) and collects its output. */
  run(command: string, args: readonly string[], options: RunOptions = {}): Promise<Finished> {
    const started = Date.now();
    const seconds = () => (Date.now() - started) / 1000;
    if (this.stopped) {
      return Promise.resolve({
        status: 1,
        stdout: "",
        stderr: "the harness is stopping",
        seconds: 0,
      });
    }
    return new Promise((resolve) => {
      const child = spawn(command, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        detached: true,
        stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      });
      if (options.input !== undefined) child.stdin?.end(options.input);
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let note = "";
      child.stdout!.on("data", (chunk: Buffer) => stdout.push(chunk));
      child.stderr!.on("data", (chunk: Buffer) => {
        stderr.push(chunk);
        if (options.echoStderr) process.stderr.write(chunk);
      });
      const pid = child.pid;
      if (pid !== undefined) this.running.set(pid, child);
      const limit = (options.timeoutSeconds ?? 1800) * 1000;
      const timer = setTimeout(() => {
        note = `\n[harness] ${command} exceeded ${limit / 1000}s and was stopped (pid ${pid})`;
        if (pid !== undefined) stopGroup(pid);
      }, limit);
      const finish = (status: number, extra = "") => {
        clearTimeout(timer);
        if (pid !== undefined) this.running.delete(pid);
        resolve({
          status,
          stdout: Buffer.concat(stdout).toString("utf8"),
          stderr: Buffer.concat(stderr).toString("utf8") + extra + note,
          seconds: seconds(),
        });
      };
      child.on("error", (error) =>
        finish(1, `\n[harness] could not run ${command}: ${error.message}`),
      );
      child.on("close", (code, signal) => {
        // A provider left behind by a crashed CLI is still in the group: stop it too.
        if (pid !== undefined && groupAlive(pid)) stopGroup(pid);
        finish(code ?? 1, signal ? `\n[harness] ${command} ended by ${signal}` : "");
      });
    });
  }

  /** Registers a cleanup (a container to remove, a daemon to stop), run by {@link stopAll}. */
  onCleanup(label: string, fn: () => void): void {
    this.cleanups.push({ label, fn });
  }

  /**
   * Stops every running process group by its pid, then runs the cleanups in reverse order.
   * Synchronous, so a signal handler can call it; a second call does nothing.
   */
  stopAll(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const pid of this.running.keys()) stopGroup(pid);
    this.running.clear();
    for (const { label, fn } of this.cleanups.reverse()) {
      try {
        fn();
      } catch (error) {
        process.stderr.write(`[harness] cleanup "${label}" failed: ${String(error)}\n`);
      }
    }
  }

  /** Stops everything and exits when the harness is interrupted. */
  stopOnSignals(): void {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => {
        process.stderr.write(`[harness] ${signal}: stopping what the harness started\n`);
        this.stopAll();
        process.exit(signal === "SIGINT" ? 130 : 143);
      });
    }
  }
}

/** Polls `fn` every `intervalMs` for up to `seconds`; the seconds it took, or undefined. */
export async function waitFor(
  fn: () => Promise<boolean> | boolean,
  seconds: number,
  intervalMs = 500,
): Promise<number | undefined> {
  const started = Date.now();
  while (Date.now() - started < seconds * 1000) {
    if (await fn()) return (Date.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return undefined;
}

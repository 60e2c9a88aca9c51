/**
 * One measurement of `npm run bench:eval`, in a fresh process: evaluates a program under the
 * mocks for a catalogue of N apps and prints one JSON line (resources, wall and CPU ms).
 *   eval-one.ts record <N>    run pyfleet once and save what it registered (for the baseline)
 *   eval-one.ts pyfleet <N>   evaluate pyfleet's program (index.ts)
 *   eval-one.ts baseline <N>  evaluate the plain program replaying the saved registrations
 *   eval-one.ts settings <N>  resolve the settings only (loadStack: files, config, git)
 * PYFLEET_BENCH_PROFILE=<dir> also writes a CPU profile of the measured window.
 * `--as-run` first sets the stack-trace mode the commands users run set (cli/stackTraces.ts).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, stackFileConfig, type Recorded } from "../test/support/mocks";
import { useNativeStackTraces } from "../cli/stackTraces";
import { writeBenchCatalogue } from "./catalogue";
import { recordRegistrations, type Registration } from "./registrations";

const ROOT = path.resolve(__dirname, "..");
const DIR = path.join(ROOT, "reports", "bench");
const MODES = ["record", "pyfleet", "baseline", "settings"] as const;
type Mode = (typeof MODES)[number];

function registrationsFile(count: number): string {
  return path.join(DIR, `registrations-${count}.json`);
}

/** CPU milliseconds of this process and of the children it waited for (git). */
function cpuMs(): number {
  const own = process.cpuUsage();
  let children = 0;
  try {
    // Fields 16 and 17 of /proc/self/stat: reaped children's user and system clock ticks.
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ");
    children = ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
  } catch {
    // Not Linux: children are not counted.
  }
  return (own.user + own.system) / 1000 + children;
}

/** Resolves once every registration the program started has been answered. */
async function drained(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as {
    waitForRPCs?: () => Promise<void>;
  };
  if (!settings.waitForRPCs) throw new Error("this @pulumi/pulumi has no waitForRPCs");
  await settings.waitForRPCs();
}

/** Throws unless the baseline registered exactly what pyfleet did, input for input. */
function sameRegistrations(saved: readonly Registration[], replayed: readonly Recorded[]): void {
  const key = (type: string, name: string, inputs: unknown) =>
    `${type} ${name} ${JSON.stringify(inputs)}`;
  const expected = saved.map((r) => key(r.type, r.name, r.inputs)).sort();
  const got = replayed.map((r) => key(r.type, r.name, r.inputs)).sort();
  const differs = expected.findIndex((k, i) => k !== got[i]);
  if (expected.length !== got.length || differs !== -1) {
    throw new Error(
      `the baseline registered something else than pyfleet: expected ${expected[differs] ?? "nothing"}, ` +
        `got ${got[differs] ?? "nothing"}`,
    );
  }
}

/**
 * With PYFLEET_BENCH_PROFILE=<dir>, a V8 CPU profile of the measured window only (not module
 * loading), written to <dir>/<mode>-<apps>.cpuprofile for Chrome DevTools or speedscope.
 */
async function startProfile(): Promise<((name: string) => Promise<void>) | undefined> {
  const dir = process.env["PYFLEET_BENCH_PROFILE"];
  if (!dir) return undefined;
  const session = new Session();
  session.connect();
  const post = (method: string) =>
    new Promise<unknown>((done, fail) =>
      session.post(method, (error, result) => (error ? fail(error) : done(result))),
    );
  await post("Profiler.enable");
  await post("Profiler.start");
  return async (name) => {
    const { profile } = (await post("Profiler.stop")) as { profile: unknown };
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  };
}

async function main(): Promise<void> {
  const [mode, countArg, ...flags] = process.argv.slice(2) as [Mode, string, ...string[]];
  const count = Number(countArg);
  if (!MODES.includes(mode) || !Number.isInteger(count) || count < 1) {
    throw new Error(`usage: eval-one.ts <${MODES.join("|")}> <apps> [--as-run]`);
  }
  if (flags.includes("--as-run")) useNativeStackTraces();
  // A quick start's local settings name the example apps, which a bench catalogue lacks.
  process.env["PYFLEET_LOCAL_SETTINGS"] = "none";
  const catalogue = writeBenchCatalogue(ROOT, count);
  const config = { ...stackFileConfig("dev"), "pyfleet:catalogue": catalogue };
  const recorded = await installMocks({ stack: "dev", config });

  // Module loading is a fixed cost; the measurement is the evaluation itself.
  let evaluate: () => Promise<unknown>;
  let registrations: Registration[] | undefined;
  let saved: Registration[] | undefined;
  if (mode === "baseline") {
    saved = JSON.parse(readFileSync(registrationsFile(count), "utf8")) as Registration[];
    const { replayRegistrations } = await import("./baseline");
    const replayed = saved;
    evaluate = () => Promise.resolve(replayRegistrations(replayed));
  } else if (mode === "settings") {
    const { loadStack } = await import("../stacks/load");
    evaluate = () => Promise.resolve(loadStack());
  } else {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const program = require("../index") as () => Promise<Record<string, unknown>>;
    if (mode === "record") registrations = recordRegistrations(recorded);
    // The stack outputs are resolved too, as the engine would.
    evaluate = async () => {
      const outputs = await program();
      await new Promise((done) => pulumi.output(outputs).apply(done));
    };
  }

  const profile = await startProfile();
  const wallStart = performance.now();
  const cpuStart = cpuMs();
  await evaluate();
  await drained();
  const cpu = cpuMs() - cpuStart;
  const wall = performance.now() - wallStart;
  await profile?.(`${mode}-${count}${flags.includes("--as-run") ? "-as-run" : ""}`);
  if (saved) sameRegistrations(saved, recorded);
  if (registrations) writeFileSync(registrationsFile(count), JSON.stringify(registrations));
  process.stdout.write(
    `${JSON.stringify({ mode, apps: count, resources: recorded.length, wallMs: wall, cpuMs: cpu })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});

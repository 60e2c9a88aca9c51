/**
 * Program evaluation under the mocks, pyfleet against a baseline, for 1, 10, 100 and 500 apps:
 * the baseline is a plain Pulumi program registering the same resources with the same inputs
 * (bench/baseline.ts, replaying what pyfleet registered). Both run in the same runtime (this
 * one, under ts-node), each run in a fresh process, alternating, the best of several kept.
 * Figures are CPU time (the program's and its git children's), which the other load of a
 * shared machine disturbs far less than wall time; wall time is printed beside it.
 * Then pyfleet as users run it (`npm run preview`/`up`: cli/stackTraces.ts) against the
 * baseline as a hand-written program runs under ts-node, Pulumi's default for TypeScript.
 *   npm run bench:eval            PYFLEET_BENCH_RUNS=<n> (default 3) runs per figure
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";

interface Sample {
  mode: string;
  apps: number;
  resources: number;
  wallMs: number;
  cpuMs: number;
}

const RUNS = Number(process.env["PYFLEET_BENCH_RUNS"] ?? "3");
const SIZES = [1, 10, 100, 500];
const AS_RUN_SIZE = 100;
const SETTINGS_SIZE = 500;

function once(mode: string, count: number, ...flags: string[]): Sample {
  const out = execFileSync(
    process.execPath,
    [
      "-r",
      "ts-node/register/transpile-only",
      path.join(__dirname, "eval-one.ts"),
      mode,
      String(count),
      ...flags,
    ],
    { encoding: "utf8", cwd: path.resolve(__dirname, ".."), maxBuffer: 64 * 2 ** 20 },
  );
  return JSON.parse(out.trim().split("\n").pop() ?? "{}") as Sample;
}

/** The least disturbed of RUNS runs of each variant, the variants interleaved run by run. */
function best(variants: [string, number, ...string[]][]): Sample[] {
  const bests: (Sample | undefined)[] = variants.map(() => undefined);
  for (let run = 0; run < RUNS; run++) {
    variants.forEach(([mode, count, ...flags], i) => {
      const s = once(mode, count, ...flags);
      if (!bests[i] || s.cpuMs < bests[i].cpuMs) bests[i] = s;
    });
  }
  return bests as Sample[];
}

const perResource = (s: Sample, ms: number) => (ms / s.resources).toFixed(3);
const lines: string[] = [];
const rows: { apps: number; ratio: number }[] = [];
console.log(
  "apps  resources  pyfleet cpu ms/res  baseline cpu ms/res  ratio   pyfleet wall ms/res  baseline wall ms/res",
);
let asRun: Sample | undefined;
let handWritten: Sample | undefined;
for (const n of SIZES) {
  const recorded = once("record", n);
  const variants: [string, number, ...string[]][] = [
    ["pyfleet", n],
    ["baseline", n],
  ];
  if (n === AS_RUN_SIZE) variants.push(["pyfleet", n, "--as-run"]);
  const [pyfleet, baseline, asRunHere] = best(variants) as [Sample, Sample, Sample?];
  if (baseline.resources !== pyfleet.resources || recorded.resources !== pyfleet.resources) {
    throw new Error(
      `at ${n} apps pyfleet registered ${pyfleet.resources} resources, the baseline ${baseline.resources}`,
    );
  }
  if (asRunHere) [asRun, handWritten] = [asRunHere, baseline];
  const ratio = pyfleet.cpuMs / baseline.cpuMs;
  rows.push({ apps: n, ratio });
  console.log(
    `${String(n).padStart(4)}  ${String(pyfleet.resources).padStart(9)}  ${perResource(pyfleet, pyfleet.cpuMs).padStart(18)}  ${perResource(baseline, baseline.cpuMs).padStart(19)}  ${ratio.toFixed(2).padStart(5)}   ${perResource(pyfleet, pyfleet.wallMs).padStart(19)}  ${perResource(baseline, baseline.wallMs).padStart(20)}`,
  );
}

if (!asRun || !handWritten) throw new Error(`${AS_RUN_SIZE} apps must be one of the sizes`);
console.log(
  `as run (${AS_RUN_SIZE} apps): pyfleet ${perResource(asRun, asRun.cpuMs)} cpu ms/res ` +
    `(${perResource(asRun, asRun.wallMs)} wall), hand-written under ts-node ` +
    `${perResource(handWritten, handWritten.cpuMs)} cpu ms/res`,
);
const [settings] = best([["settings", SETTINGS_SIZE]]) as [Sample];
console.log(
  `settings resolution at ${SETTINGS_SIZE} apps: ${settings.cpuMs.toFixed(0)} ms cpu, ` +
    `${settings.wallMs.toFixed(0)} ms wall`,
);

for (const { apps, ratio } of rows)
  lines.push(`pyfleet/baseline at ${apps} apps: ${ratio.toFixed(2)}`);
lines.push(
  `as run/hand-written at ${AS_RUN_SIZE} apps: ${(asRun.cpuMs / handWritten.cpuMs).toFixed(2)}`,
);
console.log(lines.join("\n"));

/**
 * Program evaluation time under mocks for 1, 10 and 100 apps, each in a fresh process:
 * prints ms per app and the ratio to the 1-app figure, so linear growth shows as a flat
 * ms/app column.   npm run bench:eval
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";

interface Sample {
  apps: number;
  resources: number;
  ms: number;
}

function measure(count: number): Sample {
  const out = execFileSync(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", path.join(__dirname, "eval-one.ts"), String(count)],
    { encoding: "utf8", cwd: path.resolve(__dirname, "..") },
  );
  return JSON.parse(out.trim().split("\n").pop() ?? "{}") as Sample;
}

const sizes = [1, 10, 100];
const samples = sizes.map((n) => {
  // The smallest of three runs: the least disturbed by the rest of the machine.
  const runs = [measure(n), measure(n), measure(n)];
  return runs.reduce((best, s) => (s.ms < best.ms ? s : best));
});
const base = samples[0]!.ms / samples[0]!.apps;
console.log("apps  resources   total ms   ms/app   ms/app vs 1 app   marginal ms/app");
samples.forEach((s, i) => {
  const perApp = s.ms / s.apps;
  const prev = samples[i - 1];
  const marginal = prev ? (s.ms - prev.ms) / (s.apps - prev.apps) : perApp;
  console.log(
    `${String(s.apps).padStart(4)}  ${String(s.resources).padStart(9)}  ${s.ms.toFixed(0).padStart(9)}  ${perApp
      .toFixed(1)
      .padStart(
        7,
      )}   ${(perApp / base).toFixed(2).padStart(15)}   ${marginal.toFixed(1).padStart(15)}`,
  );
});

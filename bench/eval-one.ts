/**
 * One measurement: evaluates the whole program under mocks for a catalogue of N apps and
 * prints the wall time in milliseconds. Run by bench/run.ts in a fresh process per N.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { stringify } from "yaml";
import { installMocks, settle, stackFileConfig } from "../test/support/mocks";

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? "1");
  const root = path.resolve(__dirname, "..");
  const dir = path.join(root, "reports", "bench");
  mkdirSync(dir, { recursive: true });
  const apps: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    apps[`app${i}`] = {
      path: "apps/vectors",
      flavour: "pip",
      kind: "fastapi",
      entrypoint: "vectors.main:app",
      version: { from: "file", file: "VERSION" },
      volumes: [{ name: "data", mountPath: "/data", size: "1Gi" }],
    };
  }
  const catalogue = path.join("reports", "bench", `catalogue-${count}.yaml`);
  writeFileSync(path.join(root, catalogue), stringify({ apps }));
  const config = { ...stackFileConfig("dev"), "pyfleet:catalogue": catalogue };
  const recorded = await installMocks({ stack: "dev", config });
  // Module loading is a fixed cost; the measurement is the evaluation itself.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const program = require("../index") as () => Promise<Record<string, unknown>>;
  const started = performance.now();
  await program();
  await settle(recorded);
  const elapsed = performance.now() - started;
  process.stdout.write(
    `${JSON.stringify({ apps: count, resources: recorded.length, ms: elapsed })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exitCode = 1;
});

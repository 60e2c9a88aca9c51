/**
 * The catalogue the evaluation benchmarks scale: N copies of the vectors app (FastAPI, pip, one
 * volume), written under reports/bench/ so settings resolution reads it as a project file.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";

/** Writes a catalogue of `count` apps under `root` and returns its project-relative path. */
export function writeBenchCatalogue(root: string, count: number): string {
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
  mkdirSync(path.join(root, "reports", "bench"), { recursive: true });
  writeFileSync(path.join(root, catalogue), stringify({ apps }));
  return catalogue;
}

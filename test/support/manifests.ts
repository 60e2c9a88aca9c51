/**
 * Writes the Kubernetes objects a mocked program run created as YAML, so the real schema
 * validator and kube-score can judge exactly what pyfleet would apply.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import type { Recorded } from "./mocks";

/** Folder the manifests of one stack are written to. */
export function manifestDir(stack: string): string {
  return path.resolve(__dirname, "..", "..", "reports", "manifests", stack);
}

/** The Kubernetes object as it would be applied (generated names filled in). */
export function toManifest(r: Recorded): Record<string, unknown> {
  const { apiVersion, kind, metadata, ...rest } = r.inputs as {
    apiVersion: string;
    kind: string;
    metadata?: Record<string, unknown>;
  };
  const stateMeta = (r.state["metadata"] ?? {}) as Record<string, unknown>;
  return { apiVersion, kind, metadata: { ...metadata, name: stateMeta["name"] }, ...rest };
}

/** Kubernetes objects among recorded resources (providers and components excluded). */
export function kubernetesObjects(recorded: readonly Recorded[]): Recorded[] {
  return recorded.filter((r) => r.type.startsWith("kubernetes:") && "kind" in r.inputs);
}

/** Writes one YAML file per object into reports/manifests/<stack>. */
export function writeManifests(stack: string, recorded: readonly Recorded[]): string {
  const dir = manifestDir(stack);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const r of kubernetesObjects(recorded)) {
    const manifest = toManifest(r);
    const file = `${String(manifest["kind"]).toLowerCase()}-${r.name}.yaml`;
    writeFileSync(path.join(dir, file), stringify(manifest));
  }
  return dir;
}

/**
 * Reads what a stack runs now — its `apps` output — straight from a local file backend's
 * checkpoint, so `render` needs neither the Pulumi CLI nor a passphrase (the output holds no
 * secret). Other backends cannot be read offline: the caller falls back to placeholders.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import type { AppOutput } from "../model/promotion";

/** The folder of the file backend in use, or undefined for any other backend. */
export function fileBackendDir(root: string): string | undefined {
  const url = process.env["PULUMI_BACKEND_URL"];
  if (url === undefined || url === "") {
    return process.env["PULUMI_ACCESS_TOKEN"] ? undefined : path.join(root, ".pulumi-state");
  }
  return url.startsWith("file://") ? url.slice("file://".length) : undefined;
}

/** The `apps` output of `stack` in the file backend, or undefined when it has none. */
export function stackApps(
  root: string,
  project: string,
  stack: string,
): Record<string, AppOutput> | undefined {
  const dir = fileBackendDir(root);
  if (dir === undefined) return undefined;
  const candidates = [
    path.join(dir, ".pulumi", "stacks", project, `${stack}.json`),
    path.join(dir, ".pulumi", "stacks", `${stack}.json`),
  ];
  for (const file of candidates) {
    for (const name of [file, `${file}.gz`]) {
      if (!existsSync(name)) continue;
      const bytes = readFileSync(name);
      const text = name.endsWith(".gz")
        ? gunzipSync(bytes).toString("utf8")
        : bytes.toString("utf8");
      const doc = JSON.parse(text) as {
        checkpoint?: {
          latest?: { resources?: { type: string; outputs?: Record<string, unknown> }[] };
        };
      };
      const root = doc.checkpoint?.latest?.resources?.find((r) => r.type === "pulumi:pulumi:Stack");
      const apps = root?.outputs?.["apps"];
      return apps && typeof apps === "object" ? (apps as Record<string, AppOutput>) : undefined;
    }
  }
  return undefined;
}

/**
 * Runs the whole program under mocks for one stack and returns what it created.
 */
import type * as pulumi from "@pulumi/pulumi";
import { installMocks, resolve, settle, type MockOptions, type Recorded } from "./mocks";

/** Result of one program run. */
export interface ProgramRun {
  /** Every registered resource. */
  recorded: Recorded[];
  /** Resolved stack outputs. */
  outputs: Record<string, unknown>;
}

/** Installs mocks, imports the program fresh and runs it. */
export async function runProgram(options: MockOptions): Promise<ProgramRun> {
  const recorded = await installMocks(options);
  const mod = await import("../../index");
  const raw = await mod.default();
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    outputs[key] = await resolveDeep(value);
  }
  await settle(recorded);
  return { recorded, outputs };
}

async function resolveDeep(value: unknown): Promise<unknown> {
  if (value && typeof value === "object" && "apply" in value) {
    return resolveDeep(await resolve(value as pulumi.Output<unknown>));
  }
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await resolveDeep(v);
    return out;
  }
  return value;
}

/**
 * Everything `npm run validate` checks, offline: the settings (schema and resolution), then the
 * objects and Dockerfiles the program would create (Kubernetes' field rules), then the policy
 * pack's checks with the stack's `policy/config/<stack>.json`, as a preview would run them.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import type { EnforcementLevel } from "@pulumi/policy";
import { crossObjectProblems, dockerfileProblems, fieldProblems } from "../model/fieldRules";
import { PromotionRefused } from "../model/promotion";
import { policies } from "../policy/policies";
import type { Resource } from "../policy/resource";
import { SettingsError } from "../stacks/problems";
import {
  runOffline,
  type OfflineRun,
  type OfflineRunOptions,
  type RecordedResource,
} from "./offlineProgram";

/** The outcome of checking one stack. */
export interface StackCheck {
  /** Errors: each names the key or object, the bad value and the fix. */
  problems: string[];
  /** Advisory policy findings: reported, never failing. */
  warnings: string[];
  /** What was checked, for the summary line. */
  counts: { apps: number; objects: number; dockerfiles: number; policies: number };
  /** The offline program run, when the settings resolved. */
  run?: OfflineRun;
}

type PackConfig = Record<
  string,
  EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)
>;

function packConfig(root: string, stack: string, environment: string): PackConfig {
  const file = path.join(root, "policy", "config", `${stack}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as PackConfig;
  // A stack without its own file is judged like its environment.
  const byEnv = path.join(root, "policy", "config", `${environment}.json`);
  return existsSync(byEnv) ? (JSON.parse(readFileSync(byEnv, "utf8")) as PackConfig) : {};
}

function asResource(r: RecordedResource, props: Record<string, unknown>): Resource {
  return {
    type: r.type,
    name: r.name,
    props,
    opts: { customTimeouts: r.customTimeouts },
    urn: `urn:pulumi:offline::pyfleet::${r.type}::${r.name}`,
  };
}

/** Runs the pack's checks over the recorded resources. */
function policyFindings(
  resources: readonly RecordedResource[],
  config: PackConfig,
): { mandatory: string[]; advisory: string[]; count: number } {
  const mandatory: string[] = [];
  const advisory: string[] = [];
  const all = config["all"];
  let count = 0;
  for (const policy of policies) {
    let level: EnforcementLevel = policy.enforcementLevel ?? "advisory";
    if (all !== undefined) level = (typeof all === "string" ? all : all.enforcementLevel) ?? level;
    const entry = config[policy.name];
    const properties: Record<string, unknown> = {};
    for (const [key, property] of Object.entries(policy.configSchema?.properties ?? {})) {
      if (property.default !== undefined) properties[key] = property.default;
    }
    if (typeof entry === "string") level = entry;
    else if (entry !== undefined) {
      const { enforcementLevel, ...rest } = entry;
      if (enforcementLevel !== undefined) level = enforcementLevel;
      Object.assign(properties, rest);
    }
    if (level === "disabled") continue;
    count += 1;
    const sink = level === "advisory" ? advisory : mandatory;
    const messages =
      "validateStack" in policy
        ? policy.rule
            .check(
              resources.map((r) => asResource(r, r.state)),
              properties,
            )
            .map((f) => f.message)
        : resources
            .filter((r) => {
              const types = policy.rule.types;
              return typeof types === "function" ? types(r.type) : types.includes(r.type);
            })
            .flatMap((r) => policy.rule.check(asResource(r, r.inputs), properties));
    for (const text of messages) sink.push(`policy ${policy.name}: ${text}`);
  }
  return { mandatory, advisory, count };
}

/**
 * Whether a failed run is bad input: a refused promotion, or a component refusing an argument
 * (a plain `Error` naming the field). Anything else — a missing module, a TypeError — is a bug
 * and keeps its stack trace.
 */
function isUserError(error: unknown): error is Error {
  if (error instanceof PromotionRefused) return true;
  return error instanceof Error && error.constructor === Error && !("code" in error);
}

/** Checks one stack; never throws for bad input, only for bugs. */
export async function checkStack(
  stack: string,
  root: string,
  options: OfflineRunOptions = {},
): Promise<StackCheck> {
  const counts = { apps: 0, objects: 0, dockerfiles: 0, policies: 0 };
  let run;
  try {
    run = await runOffline(stack, options);
  } catch (error) {
    if (error instanceof SettingsError)
      return { problems: [...error.problems], warnings: [], counts };
    if (isUserError(error)) {
      return {
        problems: error.message.split("\n").filter((l) => l.trim() !== ""),
        warnings: [],
        counts,
      };
    }
    throw error;
  }
  const problems: string[] = [];
  const objects = run.resources.map((r) => ({ type: r.type, name: r.name, props: r.inputs }));
  for (const object of objects) problems.push(...fieldProblems(object));
  problems.push(...crossObjectProblems(objects));
  for (const image of run.resources.filter((r) => r.type === "docker-build:index:Image")) {
    const text = (image.inputs["dockerfile"] as { inline?: string } | undefined)?.inline ?? "";
    problems.push(...dockerfileProblems(`image ${image.name}`, text));
    counts.dockerfiles += 1;
  }
  const findings = policyFindings(run.resources, packConfig(root, stack, run.settings.environment));
  problems.push(...findings.mandatory);
  counts.apps = run.settings.apps.length;
  counts.objects = run.resources.filter((r) => r.type.startsWith("kubernetes:")).length;
  counts.policies = findings.count;
  return {
    problems: [...new Set(problems)],
    warnings: [...new Set(findings.advisory)],
    counts,
    run,
  };
}

/**
 * Turning validation issues into messages a person can act on: each names the setting (its
 * full config key or catalogue path), the bad value and what is expected.
 */
import type { z } from "zod";

/** Thrown when settings are invalid; carries every problem found, not just the first. */
export class SettingsError extends Error {
  /** One line per problem. */
  readonly problems: readonly string[];

  constructor(stack: string, problems: readonly string[]) {
    super(
      `pyfleet settings for stack "${stack}" are invalid (${problems.length} problem${
        problems.length === 1 ? "" : "s"
      }); nothing was created or changed:\n` + problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "SettingsError";
    this.problems = problems;
  }
}

/** Where a set of issues came from, so messages can name the key and the file. */
export interface IssueSource {
  /** Prefix of keys, e.g. `pyfleet:` for stack config or `` for the catalogue. */
  keyPrefix: string;
  /** File a person edits to fix it, e.g. `Pulumi.dev.yaml`. */
  file: string;
  /** Top-level keys whose values must never be echoed. */
  secretKeys?: ReadonlySet<string>;
  /** Known keys per object path, for "did you mean" hints. */
  knownKeys?: (path: readonly PropertyKey[]) => readonly string[];
}

/** Renders a value for a message: short, JSON-like, never a secret. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return JSON.stringify(value);
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) return typeof value;
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The key path as people write it in config: `apps.api.replicas`, `build.platforms[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** Edit distance, for suggesting the key a typo meant. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] ?? 0;
      const substitution = previous + (a[i - 1] === b[j - 1] ? 0 : 1);
      row[j] = Math.min(current + 1, (row[j - 1] ?? 0) + 1, substitution);
      previous = current;
    }
  }
  return row[b.length] ?? 0;
}

/** The closest known key within a small edit distance, if any. */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Formats zod issues as problems, one line each. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], source: IssueSource): string[] {
  const problems: string[] = [];
  for (const issue of issues) {
    const top = issue.path[0];
    const secret = typeof top === "string" && (source.secretKeys?.has(top) ?? false);
    if (issue.code === "unrecognized_keys") {
      const known = source.knownKeys?.(issue.path) ?? [];
      for (const key of issue.keys) {
        const where = source.keyPrefix + formatPath([...issue.path, key]);
        const hint = suggestKey(key, known);
        problems.push(
          `${where}: unknown setting in ${source.file}` +
            (hint ? ` (did you mean "${hint}"?)` : "") +
            (known.length > 0 ? `; known settings here: ${known.join(", ")}` : ""),
        );
      }
      continue;
    }
    const where = source.keyPrefix + formatPath(issue.path);
    const input = "input" in issue ? issue.input : undefined;
    const got = secret ? "" : `, got ${describeValue(input)}`;
    problems.push(`${where}: ${issueMessage(issue)}${got} (in ${source.file})`);
  }
  return problems;
}

function issueMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_value":
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_type":
      return issue.message.startsWith("Invalid input")
        ? `expected ${issue.expected}`
        : issue.message;
    case "invalid_union":
      return issue.message.startsWith("Invalid input")
        ? "value has the wrong shape"
        : issue.message;
    default:
      return issue.message;
  }
}

/** Keys a strict object schema accepts at `path`, for "did you mean" hints. */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: unknown = schema;
  const unwrap = (s: unknown): unknown => {
    let node = s as { _zod?: { def: Record<string, unknown> } };
    for (;;) {
      const def = node._zod?.def;
      if (!def) return node;
      if (def["type"] === "optional" || def["type"] === "default" || def["type"] === "nullable") {
        node = def["innerType"] as typeof node;
      } else {
        return node;
      }
    }
  };
  for (const part of path) {
    const def = (unwrap(current) as { _zod?: { def: Record<string, unknown> } })._zod?.def;
    if (!def) return [];
    if (def["type"] === "object") current = (def["shape"] as Record<string, unknown>)[String(part)];
    else if (def["type"] === "record") current = def["valueType"];
    else if (def["type"] === "array") current = def["element"];
    else return [];
  }
  const def = (unwrap(current) as { _zod?: { def: Record<string, unknown> } })._zod?.def;
  return def?.["type"] === "object" ? Object.keys(def["shape"] as Record<string, unknown>) : [];
}

/**
 * One app's build record: its build key and what went into it, in the form the rebuild reasons
 * compare (model/rebuildReasons.ts). What varies per commit without changing the image's
 * contents (the revision, creation time and version labels, SOURCE_DATE_EPOCH) stays out of the
 * key: an unchanged app keeps its key across commits. Pure: the caller lists the contexts and
 * reads the dependency files.
 */
import type { ContextEntry } from "../stacks/contextFiles";
import { buildKey } from "./buildKey";
import type { DockerfileSpec } from "./dockerfile";
import { condaLockOf, environmentOf, requirementsOf, type BuildRecord } from "./rebuildReasons";

/** Labels and build arguments that change with every commit, not with the image. */
const PER_COMMIT_LABELS = new Set([
  "org.opencontainers.image.revision",
  "org.opencontainers.image.created",
  "org.opencontainers.image.version",
]);
const PER_COMMIT_ARGS = new Set(["SOURCE_DATE_EPOCH"]);

/** Inputs of {@link buildRecord}. */
export interface BuildRecordInput {
  /** The Dockerfile spec and its rendered text. */
  spec: DockerfileSpec;
  dockerfile: string;
  /** Target stage and platforms. */
  target: string;
  platforms: readonly string[];
  /** Build arguments and labels as the build gets them. */
  buildArgs: Readonly<Record<string, string>>;
  labels: Readonly<Record<string, string>>;
  /** The main context (`.`) and the named ones, listed by `contextEntries`. */
  contexts: Readonly<Record<string, readonly ContextEntry[]>>;
  /** Reads a file of the main context (undefined when absent). */
  readFile(path: string): string | undefined;
  /** Parses YAML (environment.yml, conda-lock.yml). */
  parseYaml(text: string): unknown;
  /** conda-lock platform of the build (`linux-64`). @default "linux-64" */
  condaPlatform?: string;
}

const withoutKeys = (record: Readonly<Record<string, string>>, drop: ReadonlySet<string>) =>
  Object.fromEntries(Object.entries(record).filter(([k]) => !drop.has(k)));

/** The declared dependencies and the files that declare them. */
function dependenciesOf(input: BuildRecordInput): {
  dependencies: Record<string, string>;
  dependencyFiles: string[];
} {
  const { spec } = input;
  if (spec.flavour === "conda") {
    if (spec.condaLock) {
      const lock = input.readFile("conda-lock.yml");
      return {
        dependencies: lock
          ? condaLockOf(input.parseYaml(lock), input.condaPlatform ?? "linux-64")
          : {},
        dependencyFiles: ["conda-lock.yml", "environment.yml"],
      };
    }
    const env = input.readFile("environment.yml");
    return {
      dependencies: env ? environmentOf(input.parseYaml(env)) : {},
      dependencyFiles: ["environment.yml"],
    };
  }
  const file = spec.dependencyFile ?? "requirements.txt";
  const text = input.readFile(file);
  // pyproject.toml's dependencies need a TOML parser: its changes show as a changed file.
  return {
    dependencies: text && file !== "pyproject.toml" ? requirementsOf(text) : {},
    dependencyFiles: file === "pyproject.toml" ? [] : [file],
  };
}

/** The settings that shape the image, by the keys users set them with. */
function settingsOf(input: BuildRecordInput): Record<string, string> {
  const { spec } = input;
  const out: Record<string, string> = {
    flavour: spec.flavour,
    kind: spec.kind,
    entrypoint: spec.entrypoint,
    "build.uid": String(spec.uid),
    "build.target": input.target,
    "build.platforms": [...input.platforms].sort().join(","),
    "build.aptPackages": (spec.aptPackages ?? []).join(","),
    "build.builderPackages": (spec.builderPackages ?? ["build-essential"]).join(","),
    "health.startupBudgetSeconds": String(spec.startupBudgetSeconds),
  };
  if (spec.port !== undefined) out["port"] = String(spec.port);
  if (spec.healthPath !== undefined) out["health.livenessPath"] = spec.healthPath;
  if (spec.condaInstaller !== undefined) out["build.condaInstaller"] = spec.condaInstaller;
  for (const [k, v] of Object.entries(withoutKeys(input.buildArgs, PER_COMMIT_ARGS))) {
    out[`buildArgs.${k}`] = v;
  }
  for (const [k, v] of Object.entries(withoutKeys(input.labels, PER_COMMIT_LABELS))) {
    out[`labels.${k}`] = v;
  }
  return out;
}

/** The build record of one app. */
export function buildRecord(input: BuildRecordInput): BuildRecord {
  const baseImages = Object.fromEntries(
    Object.values(input.spec.baseImages).map((ref: string) => {
      const digest = /@(sha256:[0-9a-f]{64})$/.exec(ref)?.[1];
      return [ref, digest ?? ref];
    }),
  );
  const settings = settingsOf(input);
  const key = buildKey({
    dockerfile: input.dockerfile,
    target: input.target,
    platforms: input.platforms,
    buildArgs: withoutKeys(input.buildArgs, PER_COMMIT_ARGS),
    labels: withoutKeys(input.labels, PER_COMMIT_LABELS),
    baseImages,
    contexts: input.contexts,
    recipe: settings,
  });
  const files: Record<string, string> = {};
  for (const entry of input.contexts["."] ?? []) {
    if (entry.kind === "file") files[entry.path] = `${entry.sha256.slice(0, 12)}:${entry.mode}`;
    else if (entry.kind === "link") files[entry.path] = `link:${entry.target}`;
  }
  return { key, ...dependenciesOf(input), files, baseImages, settings };
}

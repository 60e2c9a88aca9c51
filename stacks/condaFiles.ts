/**
 * What can be known about a conda app's environment.yml and conda-lock.yml before any build:
 * that they parse, that the environment lists dependencies, and that the lock covers the
 * platforms the image is built for. Pure: takes the file texts, returns problem messages.
 */
import { parse as parseYaml } from "yaml";

/** Docker platform (`linux/amd64`) -> conda subdir (`linux-64`). */
const CONDA_SUBDIRS: Readonly<Record<string, string>> = {
  "linux/amd64": "linux-64",
  "linux/arm64": "linux-aarch64",
  "linux/ppc64le": "linux-ppc64le",
  "linux/s390x": "linux-s390x",
};

/** The conda subdir of a Docker platform, when conda has one. */
export function condaSubdir(platform: string): string | undefined {
  return CONDA_SUBDIRS[platform];
}

/** Problems of one conda app's files; `where` prefixes each message (e.g. `apps.science`). */
export function condaFileProblems(input: {
  where: string;
  folder: string;
  environment: string;
  lock?: string;
  platforms: readonly string[];
}): string[] {
  const { where, folder } = input;
  const problems: string[] = [];
  const envFile = `${folder}/environment.yml`;
  let env: unknown;
  try {
    env = parseYaml(input.environment);
  } catch (error) {
    const reason = (error as Error).message.split("\n")[0];
    return [`${where}: ${envFile} is not valid YAML (${reason}); fix the file`];
  }
  const deps = (env as { dependencies?: unknown } | null)?.dependencies;
  if (!Array.isArray(deps) || deps.length === 0) {
    problems.push(
      `${where}: ${envFile} lists no dependencies; add them under "dependencies:" ` +
        "(e.g. - python=3.11)",
    );
  }
  if (input.lock === undefined) return problems;

  const lockFile = `${folder}/conda-lock.yml`;
  let lock: unknown;
  try {
    lock = parseYaml(input.lock);
  } catch (error) {
    const reason = (error as Error).message.split("\n")[0];
    return [...problems, `${where}: ${lockFile} is not valid YAML (${reason}); re-lock`];
  }
  const locked = (lock as { metadata?: { platforms?: unknown } } | null)?.metadata?.platforms;
  const lockedPlatforms = Array.isArray(locked) ? locked.map(String) : [];
  for (const platform of input.platforms) {
    const subdir = condaSubdir(platform);
    if (subdir === undefined) {
      problems.push(
        `${where}: conda has no packages for platform ${platform}; build for linux/amd64 or linux/arm64`,
      );
    } else if (!lockedPlatforms.includes(subdir)) {
      problems.push(
        `${where}: ${lockFile} locks ${lockedPlatforms.join(", ") || "no platform"}, not ${subdir} ` +
          `(the image platform ${platform}); re-lock with conda-lock -p ${subdir}`,
      );
    }
  }
  return problems;
}

/**
 * What every build context's .dockerignore must exclude (D12): git history, env files, stack
 * config with secrets, kubeconfigs and dependency folders. Settings refuse an app whose file
 * lacks a pattern, and the generator writes them all.
 */

/** Patterns every build context's .dockerignore must contain. */
export const REQUIRED_DOCKERIGNORE = [
  ".git",
  ".env",
  ".env.*",
  "Pulumi.*.yaml",
  "*.kubeconfig",
  "kubeconfig*",
  "node_modules",
  "__pycache__",
] as const;

/** Patterns from REQUIRED_DOCKERIGNORE that a .dockerignore text lacks. */
export function missingDockerignorePatterns(text: string): string[] {
  const present = new Set(
    text
      .split(/\r?\n/)
      .map((line) => line.trim().replace(/^\/+/, "").replace(/\/+$/, ""))
      .filter((line) => line !== "" && !line.startsWith("#")),
  );
  return REQUIRED_DOCKERIGNORE.filter((pattern) => !present.has(pattern));
}

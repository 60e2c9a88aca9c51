/**
 * Writes pyfleet's .dockerignore into an app folder that has none, or adds the required
 * patterns an existing one lacks:  npm run dockerignore -- <app>
 * It reads the default catalogue directly: the settings refuse an app without a complete
 * .dockerignore, which is what this command is for.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { renderDockerignore } from "../model/dockerfile";
import { missingDockerignorePatterns } from "../policy/vocabulary";
import { projectRoot } from "../stacks/load";
import { DEFAULT_CATALOGUE } from "../stacks/settings";

function main(argv: string[]): number {
  const unknown = argv.filter((a) => a.startsWith("-"));
  if (unknown.length > 0) {
    process.stderr.write(`unknown option ${unknown[0]}; usage: npm run dockerignore -- <app>\n`);
    return 2;
  }
  const [name] = argv;
  const root = projectRoot();
  const catalogue = parseYaml(readFileSync(path.join(root, DEFAULT_CATALOGUE), "utf8")) as {
    apps?: Record<string, { path?: string }>;
  };
  const folder = name ? catalogue.apps?.[name]?.path : undefined;
  if (!folder) {
    process.stderr.write(
      `usage: npm run dockerignore -- <app>\napps: ${Object.keys(catalogue.apps ?? {}).join(", ")}\n`,
    );
    return 2;
  }
  const file = path.join(root, folder, ".dockerignore");
  if (!existsSync(file)) {
    writeFileSync(file, renderDockerignore());
    process.stdout.write(`wrote ${path.relative(root, file)}\n`);
    return 0;
  }
  const missing = missingDockerignorePatterns(readFileSync(file, "utf8"));
  if (missing.length > 0) {
    writeFileSync(
      file,
      readFileSync(file, "utf8").replace(/\n?$/, "\n") + missing.join("\n") + "\n",
    );
  }
  process.stdout.write(
    missing.length > 0
      ? `added ${missing.join(", ")} to ${path.relative(root, file)}\n`
      : "nothing to add\n",
  );
  return 0;
}

process.exitCode = main(process.argv.slice(2));

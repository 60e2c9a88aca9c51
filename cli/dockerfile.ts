/**
 * Prints the Dockerfile pyfleet generates for an app, for review or to eject:
 *   npm run dockerfile -- <app> [--stack <stack>]
 * One Dockerfile holds both targets (production and development stages).
 */
import { renderDockerfile } from "../model/dockerfile";
import { imagePlan } from "../model/imagePlan";
import { offlineSettings } from "../stacks/offline";
import { SettingsError } from "../stacks/problems";

function main(argv: string[]): number {
  const args = [...argv];
  let stack = "dev";
  const names: string[] = [];
  while (args.length > 0) {
    const arg = args.shift()!;
    if (arg === "--stack") stack = args.shift() ?? stack;
    else if (arg.startsWith("-")) {
      process.stderr.write(
        `unknown option ${arg}; usage: npm run dockerfile -- <app> [--stack <stack>]\n`,
      );
      return 2;
    } else names.push(arg);
  }
  let settings;
  try {
    settings = offlineSettings(stack);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return error instanceof SettingsError ? 2 : 1;
  }
  const apps = settings.apps.map((a) => a.name);
  const [name] = names;
  const app = settings.apps.find((a) => a.name === name);
  if (!app) {
    process.stderr.write(
      `usage: npm run dockerfile -- <app> [--stack <stack>]\napps: ${apps.join(", ")}\n`,
    );
    return 2;
  }
  const plan = imagePlan({
    app,
    environment: settings.environment,
    registry: settings.registry,
    build: settings.build,
    // Printing never builds, so the tag policy does not apply here.
    tags: { allowDirty: true, requireVersion: false },
  });
  process.stdout.write(renderDockerfile(plan.dockerfile));
  return 0;
}

process.exitCode = main(process.argv.slice(2));

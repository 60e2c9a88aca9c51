/**
 * Checks a stack before anything runs, offline (no engine, Docker or cluster):
 *   npm run validate -- <stack> [--config-file <file>]
 * Resolves the settings and the catalogue, builds every object and Dockerfile the program
 * would create, and checks them all. Exits 0 with a one-line summary, or 1 listing every
 * problem once, each naming the key or object, the bad value and the fix.
 */
import * as path from "node:path";
import { checkStack } from "./checks";

const ROOT = path.resolve(__dirname, "..");

async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  let configFile: string | undefined;
  const stacks: string[] = [];
  while (args.length > 0) {
    const arg = args.shift()!;
    if (arg === "--config-file") configFile = path.resolve(args.shift() ?? "");
    else if (arg.startsWith("-")) {
      process.stderr.write(
        `unknown option ${arg}\nusage: npm run validate -- <stack> [--config-file <file>]\n`,
      );
      return 2;
    } else stacks.push(arg);
  }
  if (stacks.length !== 1) {
    process.stderr.write("usage: npm run validate -- <stack> [--config-file <file>]\n");
    return 2;
  }
  const stack = stacks[0]!;
  const result = await checkStack(stack, ROOT, configFile ? { configFile } : {});
  for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
  if (result.problems.length > 0) {
    const n = result.problems.length;
    process.stderr.write(
      `stack "${stack}" is invalid (${n} problem${n === 1 ? "" : "s"}); nothing was created or changed:\n` +
        result.problems.map((p) => `  - ${p}`).join("\n") +
        "\n",
    );
    return 1;
  }
  const c = result.counts;
  process.stdout.write(
    `stack "${stack}" is valid: ${c.apps} apps, ${c.objects} Kubernetes objects, ${c.dockerfiles} ` +
      `Dockerfiles, ${c.policies} policies checked` +
      (result.warnings.length > 0 ? `; ${result.warnings.length} advisory findings above` : "") +
      "\n",
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Not a user error: keep the stack trace for the bug report.
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);

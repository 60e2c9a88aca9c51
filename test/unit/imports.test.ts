/**
 * The import graph points one way: cli/infra -> components -> model -> stacks ->
 * policy/vocabulary. The policy pack imports nothing outside its folder (so it can be published
 * alone), and its vocabulary imports nothing outside itself, not even a package.
 */
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..", "..");

/** The TypeScript files below `folder` (relative to the project root). */
function sourcesIn(folder: string): string[] {
  return readdirSync(path.join(ROOT, folder), { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts"))
    .map((file) => path.join(folder, file));
}

/** Every module specifier a file imports, re-exports or requires. */
function specifiersOf(text: string): string[] {
  const patterns = [
    /^\s*(?:import|export)\s[^;]*?\bfrom\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\b(?:import|require)\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[1]!));
}

/** One import: the file, what it names, and the project path it resolves to (relative ones). */
interface Edge {
  file: string;
  specifier: string;
  target?: string;
}

function edgesOf(folder: string): Edge[] {
  return sourcesIn(folder).flatMap((file) =>
    specifiersOf(readFileSync(path.join(ROOT, file), "utf8")).map((specifier) =>
      specifier.startsWith(".")
        ? { file, specifier, target: path.join(path.dirname(file), specifier) }
        : { file, specifier },
    ),
  );
}

function inside(target: string, folder: string): boolean {
  return target === folder || target.startsWith(`${folder}${path.sep}`);
}

/** Imports from `folder` that reach into any of `forbidden`. */
function reaching(folder: string, forbidden: readonly string[]): string[] {
  return edgesOf(folder)
    .filter((e) => e.target !== undefined && forbidden.some((f) => inside(e.target!, f)))
    .map((e) => `${e.file} imports ${e.specifier}`);
}

describe("import graph", () => {
  it("finds the imports it judges", () => {
    const text =
      'import {\n  a,\n} from "./a";\nexport * from "../b";\nimport "c";\n' +
      'const m = "comes from \\"x\\"";\nvoid import("./d");';
    expect(specifiersOf(text)).toEqual(["./a", "../b", "c", "./d"]);
    expect(edgesOf("stacks").some((e) => e.target === path.join("policy", "vocabulary"))).toBe(
      true,
    );
  });

  it.each([
    ["stacks", ["model", "components", "cli", "infra"]],
    ["model", ["components", "cli", "infra"]],
    ["components", ["cli", "infra"]],
  ])("%s imports nothing from %j", (folder, forbidden) => {
    expect(reaching(folder, forbidden)).toEqual([]);
  });

  it("policy imports nothing outside policy/, and only the packages its package.json names", () => {
    const manifest = JSON.parse(
      readFileSync(path.join(ROOT, "policy", "package.json"), "utf8"),
    ) as {
      dependencies?: Record<string, string>;
    };
    const packages = Object.keys(manifest.dependencies ?? {});
    const outside = edgesOf("policy")
      .filter((e) =>
        e.target === undefined
          ? !packages.some((p) => e.specifier === p || e.specifier.startsWith(`${p}/`))
          : !inside(e.target, "policy"),
      )
      .map((e) => `${e.file} imports ${e.specifier}`);
    expect(outside).toEqual([]);
  });

  it("policy/vocabulary imports nothing outside itself, not even a package", () => {
    const vocabulary = path.join("policy", "vocabulary");
    const outside = edgesOf(vocabulary)
      .filter((e) => e.target === undefined || !inside(e.target, vocabulary))
      .map((e) => `${e.file} imports ${e.specifier}`);
    expect(outside).toEqual([]);
  });
});

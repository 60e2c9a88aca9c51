/**
 * Which files of a build context BuildKit sends: .dockerignore read and matched as Docker does
 * (moby/patternmatcher v0.6: `ignorefile.ReadAll`, then `MatchesOrParentMatches`), so the build
 * key hashes exactly the files the build sees. Patterns are rooted at the context (`tests/`
 * matches only the top-level folder, `** /x` anywhere), a pattern matching a parent folder
 * excludes everything under it, `!` re-includes, and the last matching pattern wins.
 */
/** Go's filepath.Clean on a slash path: no `.` or empty segments, `..` resolved, no trailing /. */
export function cleanPath(p: string): string {
  const rooted = p.startsWith("/");
  const out: string[] = [];
  for (const segment of p.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === ".." && out.length > 0 && out.at(-1) !== "..") out.pop();
    else if (segment !== ".." || !rooted) out.push(segment);
  }
  const joined = out.join("/");
  return rooted ? `/${joined}` : joined || ".";
}

/** Go's path.Dir: the folder part of a slash path, "." when there is none. */
function dirname(p: string): string {
  const i = p.lastIndexOf("/");
  return i < 0 ? "." : cleanPath(p.slice(0, i) || "/");
}

/** The patterns of a .dockerignore text, as `ignorefile.ReadAll` returns them. */
export function readDockerignore(text: string): string[] {
  const patterns: string[] = [];
  text
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/)
    .forEach((line) => {
      if (line.startsWith("#")) return;
      let pattern = line.trim();
      if (pattern === "") return;
      const invert = pattern.startsWith("!");
      if (invert) pattern = pattern.slice(1).trim();
      if (pattern.length > 0) {
        pattern = cleanPath(pattern);
        if (pattern.length > 1 && pattern.startsWith("/")) pattern = pattern.slice(1);
      }
      patterns.push(invert ? `!${pattern}` : pattern);
    });
  return patterns;
}

interface Pattern {
  exclusion: boolean;
  cleaned: string;
  test: (file: string) => boolean;
}

const REGEXP_ONLY = new Set([...".+()|{}$"]);

/** patternmatcher's compile: exact, prefix (`x/**`), suffix (`** /x`) or a regexp. */
function compile(cleaned: string): (file: string) => boolean {
  let re = "^";
  let type: "exact" | "prefix" | "suffix" | "regexp" = "exact";
  const chars = [...cleaned];
  for (let i = 0, n = 0; i < chars.length; i++, n++) {
    const ch = chars[i]!;
    if (ch === "*") {
      if (chars[i + 1] === "*") {
        i++;
        if (chars[i + 1] === "/") i++;
        if (i + 1 >= chars.length) {
          if (type === "exact") type = "prefix";
          else {
            re += ".*";
            type = "regexp";
          }
        } else {
          re += "(.*/)?";
          type = "regexp";
        }
        if (n === 0) type = "suffix";
      } else {
        re += "[^/]*";
        type = "regexp";
      }
    } else if (ch === "?") {
      re += "[^/]";
      type = "regexp";
    } else if (REGEXP_ONLY.has(ch)) {
      re += `\\${ch}`;
    } else if (ch === "\\") {
      if (i + 1 < chars.length) {
        re += `\\${chars[++i]!}`;
        type = "regexp";
      } else {
        re += "\\\\";
      }
    } else if (ch === "[" || ch === "]") {
      re += ch;
      type = "regexp";
    } else {
      re += ch;
    }
  }
  switch (type) {
    case "exact":
      return (file) => file === cleaned;
    case "prefix":
      return (file) => file.startsWith(cleaned.slice(0, -2));
    case "suffix": {
      const suffix = cleaned.slice(2);
      return (file) => file.endsWith(suffix) || (suffix[0] === "/" && file === suffix.slice(1));
    }
    case "regexp": {
      const regexp = new RegExp(`${re}$`, "u");
      return (file) => regexp.test(file);
    }
  }
}

/** A compiled .dockerignore. */
export class DockerignoreMatcher {
  private readonly patterns: Pattern[];

  constructor(patterns: readonly string[]) {
    this.patterns = patterns
      .map((p) => p.trim())
      .filter((p) => p !== "")
      .map((raw) => {
        const p = cleanPath(raw);
        const exclusion = p.startsWith("!");
        if (exclusion && p.length === 1) throw new Error('illegal exclusion pattern: "!"');
        const cleaned = exclusion ? p.slice(1) : p;
        return { exclusion, cleaned, test: compile(cleaned) };
      });
  }

  /** Whether a `!` pattern may re-include something under an excluded folder. */
  get hasExclusions(): boolean {
    return this.patterns.some((p) => p.exclusion);
  }

  /** Whether BuildKit leaves `file` (a context-relative slash path) out of the context. */
  excludes(file: string): boolean {
    let matched = false;
    const parent = dirname(file);
    const parentDirs = parent.split("/");
    for (const pattern of this.patterns) {
      if (pattern.exclusion !== matched) continue;
      let match = pattern.test(file);
      if (!match && parent !== ".") {
        for (let i = 0; i < parentDirs.length && !match; i++) {
          match = pattern.test(parentDirs.slice(0, i + 1).join("/"));
        }
      }
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  }
}

/**
 * Why an app's image rebuilds, in the words a reviewer reads: `numpy 1.26.4 -> 2.0.1`, three
 * code files changed, a base image whose digest moved, a setting named by its key. Each `up`
 * records what went into the build key (a {@link BuildRecord}, in the stack outputs); the next
 * preview compares the record it would make with that one. Pure.
 */

/** What went into one app's build key, kept in the stack outputs (`apps.<name>.build`). */
export interface BuildRecord {
  /** The build key (model/buildKey.ts). */
  key: string;
  /** Declared dependencies, by normalised name: the version or specifier ("1.26.4", ">=2"). */
  dependencies: Record<string, string>;
  /** The files that declare them (context paths), which `files` changes do not repeat. */
  dependencyFiles: string[];
  /** Context files by path: a short digest of contents and mode. */
  files: Record<string, string>;
  /** Base images by reference: the digest they resolved to, or the reference itself. */
  baseImages: Record<string, string>;
  /** The other inputs, by setting key (`build.platforms`, `buildArgs.PIP_INDEX_URL`, ...). */
  settings: Record<string, string>;
}

/** How many changed paths a reason names before it counts the rest. */
const PATHS_SHOWN = 3;

/** PEP 503 name normalisation: `Flask_SQLAlchemy` and `flask-sqlalchemy` are one package. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** A specifier as a version when it pins one (`==1.26.4` -> `1.26.4`), else as written. */
function version(spec: string): string {
  const trimmed = spec.trim();
  const pinned = /^(?:===?|=)\s*([^\s,;]+)$/.exec(trimmed);
  return pinned ? pinned[1]! : trimmed === "" ? "*" : trimmed;
}

/** The requirements of a requirements.txt: name -> version or specifier. */
export function requirementsOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s+#.*$/, "").trim();
    if (line === "" || line.startsWith("#") || line.startsWith("-")) continue;
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*([^;]*)/.exec(line);
    if (m) out[normalizeName(m[1]!)] = version(m[3]!);
  }
  return out;
}

/**
 * The dependencies of a parsed environment.yml: conda packages (`numpy=1.26.4`,
 * `scipy>=1.11`) and its `pip:` section, pip names prefixed `pip:` so the two never clash.
 */
export function environmentOf(doc: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const deps = (doc as { dependencies?: unknown } | null)?.dependencies;
  if (!Array.isArray(deps)) return out;
  for (const dep of deps) {
    if (typeof dep === "string") {
      const m = /^(?:[\w.-]+::)?([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$/.exec(dep.trim());
      if (m) out[normalizeName(m[1]!)] = version(m[2]!.split(/\s+/)[0] ?? "");
    } else if (dep !== null && typeof dep === "object" && "pip" in dep) {
      const pip = (dep as { pip?: unknown }).pip;
      if (Array.isArray(pip)) {
        const reqs = requirementsOf(pip.filter((p) => typeof p === "string").join("\n"));
        for (const [name, v] of Object.entries(reqs)) out[`pip:${name}`] = v;
      }
    }
  }
  return out;
}

/** The exact versions of a parsed conda-lock.yml for one platform (name -> version). */
export function condaLockOf(doc: unknown, platform: string): Record<string, string> {
  const out: Record<string, string> = {};
  const packages = (doc as { package?: unknown } | null)?.package;
  if (!Array.isArray(packages)) return out;
  for (const p of packages as {
    name?: unknown;
    version?: unknown;
    platform?: unknown;
    manager?: unknown;
  }[]) {
    if (typeof p.name !== "string" || typeof p.version !== "string") continue;
    if (p.platform !== undefined && p.platform !== platform) continue;
    out[p.manager === "pip" ? `pip:${normalizeName(p.name)}` : normalizeName(p.name)] = p.version;
  }
  return out;
}

function listed(paths: string[]): string {
  const shown = paths.slice(0, PATHS_SHOWN).join(", ");
  return paths.length > PATHS_SHOWN ? `${shown} and ${paths.length - PATHS_SHOWN} more` : shown;
}

const short = (value: string) => (/^sha256:[0-9a-f]{64}$/.test(value) ? value.slice(0, 19) : value);

/**
 * Why `next` builds when `previous` was the last build: one line per cause, in the order a
 * reviewer weighs them. Empty when nothing changed (the key is the same).
 */
export function rebuildReasons(previous: BuildRecord | undefined, next: BuildRecord): string[] {
  if (previous === undefined) return ["first build (no earlier build recorded)"];
  if (previous.key === next.key) return [];
  const reasons: string[] = [];

  const names = [
    ...new Set([...Object.keys(previous.dependencies), ...Object.keys(next.dependencies)]),
  ].sort();
  const deps: string[] = [];
  for (const name of names) {
    const [was, now] = [previous.dependencies[name], next.dependencies[name]];
    if (was === now) continue;
    if (was === undefined) deps.push(`+ ${name} ${now}`);
    else if (now === undefined) deps.push(`- ${name} ${was}`);
    else deps.push(`${name} ${was} -> ${now}`);
  }
  if (deps.length > 0) reasons.push(`dependencies: ${deps.join(", ")}`);

  const declaring = new Set([...previous.dependencyFiles, ...next.dependencyFiles]);
  const paths = [...new Set([...Object.keys(previous.files), ...Object.keys(next.files)])].sort();
  const changed = paths.filter(
    (p) => previous.files[p] !== next.files[p] && !(deps.length > 0 && declaring.has(p)),
  );
  if (changed.length > 0) {
    const what = changed.map((p) =>
      previous.files[p] === undefined ? `+${p}` : next.files[p] === undefined ? `-${p}` : p,
    );
    reasons.push(
      `code: ${changed.length} file${changed.length === 1 ? "" : "s"} changed (${listed(what)})`,
    );
  }

  for (const ref of [
    ...new Set([...Object.keys(previous.baseImages), ...Object.keys(next.baseImages)]),
  ].sort()) {
    const [was, now] = [previous.baseImages[ref], next.baseImages[ref]];
    if (was === now) continue;
    reasons.push(
      was === undefined
        ? `base image ${ref} added`
        : now === undefined
          ? `base image ${ref} no longer used`
          : `base image ${ref} moved: ${short(was)} -> ${short(now)}`,
    );
  }

  for (const key of [
    ...new Set([...Object.keys(previous.settings), ...Object.keys(next.settings)]),
  ].sort()) {
    const [was, now] = [previous.settings[key], next.settings[key]];
    if (was !== now) reasons.push(`setting ${key}: ${was ?? "(unset)"} -> ${now ?? "(unset)"}`);
  }

  // A key that moved with none of the above: the key's own format or the Dockerfile generator.
  if (reasons.length === 0) reasons.push("the image recipe changed (a newer pyfleet)");
  return reasons;
}

/** One line for a preview: the app rebuilds because ..., or does not rebuild. */
export function rebuildLine(app: string, reasons: readonly string[]): string {
  return reasons.length === 0
    ? `${app}: no rebuild (build key unchanged)`
    : `${app}: rebuilds because ${reasons.join("; ")}`;
}

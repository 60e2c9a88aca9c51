/**
 * An app's version: from a setting, a file in its folder or `[project].version` of its
 * pyproject.toml, checked as the version part of an image tag. Pure: files are read through
 * `SettingsSources`.
 */
import { validateTagPart } from "../policy/vocabulary";
import type { SettingsSources } from "./sources";
import type { AppSettings } from "./types";

/** Reads `[project].version` from pyproject.toml text. */
export function pyprojectVersion(text: string): string | undefined {
  let inProject = false;
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed.startsWith("[")) {
      inProject = trimmed === "[project]";
      continue;
    }
    if (!inProject) continue;
    const match = /^version\s*=\s*["']([^"']*)["']/.exec(trimmed);
    if (match) return match[1];
  }
  return undefined;
}

/**
 * The version of app `name` from `source`. A missing version file or a value that is no tag
 * part is pushed onto `problems`; undefined means no usable version (a pyproject.toml without
 * one is no problem: the app is then unversioned).
 */
export function resolveVersion(
  name: string,
  path: string,
  source: AppSettings["versionSource"],
  sources: SettingsSources,
  cataloguePath: string,
  problems: string[],
): string | undefined {
  let version: string | undefined;
  let origin: string;
  switch (source.from) {
    case "setting":
      version = source.value;
      origin = `apps.${name}.version.value in ${cataloguePath}`;
      break;
    case "file": {
      origin = `${path}/${source.file}`;
      // An app folder outside the repository is reported once, by its path.
      if (sources.outsideProject?.(path) !== undefined) return undefined;
      if (sources.outsideProject?.(origin) !== undefined) {
        problems.push(
          `apps.${name}.version.file: ${JSON.stringify(source.file)} leads outside the app's ` +
            "repository; name a file inside the app folder, e.g. VERSION",
        );
        return undefined;
      }
      const text = sources.readFile(origin);
      if (text === undefined) {
        problems.push(`apps.${name}.version: ${origin} not found`);
        return undefined;
      }
      version = text.trim();
      break;
    }
    case "pyproject": {
      origin = `${path}/pyproject.toml`;
      const text = sources.readFile(origin);
      version = text === undefined ? undefined : pyprojectVersion(text);
      if (version === undefined) return undefined;
      break;
    }
  }
  const error = validateTagPart(version);
  if (error !== undefined) {
    problems.push(`apps.${name}.version: ${JSON.stringify(version)} from ${origin} ${error}`);
    return undefined;
  }
  return version;
}

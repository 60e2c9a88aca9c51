/**
 * What settings resolution reads: the stack's raw config, the project's files and their git
 * state, passed in as one value so resolution stays pure. `stacks/load.ts` and
 * `stacks/offline.ts` fill it from the real project (`stacks/projectFiles.ts`), tests from memory.
 */

/** Git state of one folder. */
export interface RevisionInfo {
  /** Full commit SHA. */
  sha: string;
  /** Whether the folder has uncommitted changes. */
  dirty: boolean;
  /** Commit time (ISO 8601), used as the image's creation time so builds stay reproducible. */
  committedAt?: string;
}

/** Everything settings resolution reads, passed in so it stays pure. */
export interface SettingsSources {
  /** Pulumi stack name. */
  stack: string;
  /** Pulumi project name. */
  project: string;
  /** Raw `pyfleet:*` values, keyed without the namespace, as Pulumi stores them (strings). */
  config: Readonly<Record<string, string>>;
  /** Config keys (without namespace) that are stored encrypted. */
  secretConfigKeys: ReadonlySet<string>;
  /** Reads a project file by relative path; undefined when it does not exist. */
  readFile(path: string): string | undefined;
  /** Whether a relative path is a directory of the project. */
  isDirectory(path: string): boolean;
  /** Git revision of a project folder; undefined outside a git checkout. */
  revision(path: string): RevisionInfo | undefined;
  /** The real path when a relative path (or a symlink on it) leads outside the project. */
  outsideProject?(path: string): string | undefined;
  /** Symlinks under a project folder whose targets lie outside the project. */
  escapingLinks?(path: string): string[];
  /** How messages name the stack's config files. @default "Pulumi.<stack>.yaml" */
  configFiles?: string;
}

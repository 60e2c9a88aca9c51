/** Shapes of what the scenarios observe; the checks judge these and nothing else. */

/** One app in a stack's `apps` output. */
export interface AppOut {
  /** `<repository>@sha256:...`. */
  image: string;
  /** `sha256:...`. */
  digest: string;
  /** Repository without tag. */
  repository: string;
  /** App version, when it has one. */
  version?: string;
  /** Pushed tag references. */
  tags: string[];
  /** The app's URL through its Ingress, when it has one. */
  url?: string;
  /** The digests the stack ran, newest first (components/runHistory.ts). */
  history?: {
    digest: string;
    since: string;
    until?: string;
    verification?: { passed: boolean; at: string; failures: string[] };
  }[];
  /** The gates a gated promotion passed. */
  gates?: { states: { gate: string; ok: boolean; detail: string }[]; brokeGlass?: string };
  /** The digest's signature, SBOM and scan (components/supplyChain.ts). */
  supplyChain?: {
    signed: boolean;
    signer: string;
    sbom: { format: string; sha256: string; packages: number };
    vulnerabilities?: {
      findings: { id: string; package: string; version: string }[];
      summary: string;
    };
  };
}

/** A finished command. */
export interface CommandRun {
  /** Exit status (1 when killed or not started). */
  status: number;
  /** Standard output alone (JSON documents are read from it). */
  stdout: string;
  /** Standard output and error together, for messages. */
  output: string;
  /** Wall time. */
  seconds: number;
}

/** One step of a plan, from the engine's events. */
export interface PlanStep {
  /** Operation: same, create, update, replace, delete, ... */
  op: string;
  /** Resource URN. */
  urn: string;
}

/** A rendered manifest file. */
export interface ManifestFile {
  /** Path, relative to the run's work folder. */
  path: string;
  /** Its text. */
  text: string;
}

/** The last lines of a command's output, for failure messages. */
export function tail(run: CommandRun, characters = 3000): string {
  return run.output.slice(-characters);
}

/** The resource name at the end of a URN. */
export function urnName(urn: string): string {
  return urn.split("::").pop() ?? urn;
}

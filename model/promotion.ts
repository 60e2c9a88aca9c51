/**
 * Promotion by digest: staging and prod never build; they deploy exactly the digest the
 * previous environment runs, read from its stack outputs, or an explicit pin (rollback).
 * Pure: the source stack's outputs come in as a value.
 */
import type { BuildRecord } from "./rebuildReasons";
import type { Evidence } from "./supplyChain";
import { isDigestRef } from "../policy/vocabulary";
import type { GatePolicy } from "../stacks/types";
import { pickGated, type GateState, type RunRecord } from "./promotionGates";

/** What a stack exports per app; promotion and CI read these names. */
export interface AppOutput {
  /** `<repository>@sha256:...`, the reference the pods run. */
  image: string;
  /** `sha256:...`. */
  digest: string;
  /** Repository without tag or digest. */
  repository: string;
  /** App version, if any. */
  version?: string;
  /** Full git SHA of the build, if known. */
  revision?: string;
  /** Tag references pushed for this digest. */
  tags: string[];
  /** Public URL, if an Ingress exists. */
  url?: string;
  /** Namespace the app runs in. */
  namespace: string;
  /** Where the digest came from. */
  source: {
    stack: string;
    kind: "build" | "promotion" | "pin" | "rollback";
    /** When the environment's registry tag was pointed at this digest. */
    promotedAt?: string;
  };
  /** What went into the build key (stacks that build), for the next preview's reasons. */
  build?: BuildRecord;
  /** Compressed bytes of the pushed image, as the registry holds it (stacks that build). */
  size?: number;
  /** The digests this stack ran, newest first, with their soak and verification. */
  history?: RunRecord[];
  /** The gates the promotion passed (gated stacks), and any break-glass reason, on record. */
  gates?: PromotedImage["gates"];
  /** The digest's signature, SBOM and scan, where the stack signs or verifies. */
  supplyChain?: Omit<Evidence, "evidenceOf">;
}

/** A promotion the guards refuse: bad input to fix, not a bug. */
export class PromotionRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PromotionRefused";
  }
}

/** The digest an environment deploys for one app, and where it came from. */
export interface PromotedImage {
  /** `<repository>@sha256:...`. */
  image: string;
  /** `sha256:...`. */
  digest: string;
  /** Repository. */
  repository: string;
  /** Version carried over from the source stack. */
  version?: string;
  /** Git SHA carried over from the source stack. */
  revision?: string;
  /** Provenance. */
  source: { stack: string; kind: "promotion" | "pin" | "rollback" };
  /** The gates it passed (gated stacks), and the break-glass reason if one let it through. */
  gates?: { states: GateState[]; brokeGlass?: string };
}

/** Splits `repo@sha256:...`. */
export function splitDigestRef(ref: string): { repository: string; digest: string } {
  const at = ref.indexOf("@");
  if (!isDigestRef(ref)) {
    throw new Error(`"${ref}" is not a digest reference (<repository>@sha256:<64 hex>)`);
  }
  return { repository: ref.slice(0, at), digest: ref.slice(at + 1) };
}

/** How an environment takes images from its source stack. */
export interface PromotionPolicy {
  /** Digests to deploy instead of the source's current one (a staging re-test, say). */
  pins: Readonly<Record<string, string>>;
  /** Earlier digests to roll back to; they bypass the source guard. */
  rollback: Readonly<Record<string, string>>;
  /** Whether every deployed digest must be the one the source stack runs now (prod). */
  requireSourceMatch: boolean;
  /**
   * Soak, verification and break glass. When any applies, the digest comes from the source's
   * history (the newest that passes, or the pin if it does) and requireSourceMatch gives way.
   */
  gates?: GatePolicy;
}

/**
 * The time gates are judged at: once per program run, so the up-front check and the release
 * that follows it agree on a digest at the very edge of its soak.
 */
const JUDGED_AT = new Date();

/** Whether a gate policy asks anything of the source. */
export function gated(gates: GatePolicy | undefined): gates is GatePolicy {
  return gates !== undefined && (gates.soakMs > 0 || gates.requireVerified || !!gates.breakGlass);
}

/** The source's history of an app; a source from before histories is its current digest. */
function historyOf(current: AppOutput, now: Date): RunRecord[] {
  if (current.history !== undefined && current.history.length > 0) return current.history;
  // Nothing says since when it runs: the soak starts now.
  return [{ digest: current.digest, since: current.source.promotedAt ?? now.toISOString() }];
}

/**
 * Picks the image one app deploys: a rollback digest, else a pin, else exactly what the
 * source stack exports. Throws naming the app and the stack when the source lacks the app, and,
 * where the source must match, naming both digests when a pin differs from what it runs.
 */
export function promotedImage(
  app: string,
  sourceStack: string,
  sourceApps: Readonly<Record<string, AppOutput>> | undefined,
  policy: PromotionPolicy,
  now: Date = JUDGED_AT,
): PromotedImage {
  const current = sourceApps?.[app];
  const rollback = policy.rollback[app];
  if (rollback !== undefined) {
    return fromRef(rollback, current, { stack: sourceStack, kind: "rollback" });
  }
  const pin = policy.pins[app];
  if (gated(policy.gates) && current !== undefined) {
    const wanted = pin !== undefined ? splitDigestRef(pin).digest : undefined;
    const choice = pickGated(app, sourceStack, historyOf(current, now), policy.gates, now, wanted);
    const { repository } = splitDigestRef(pin ?? current.image);
    const { record } = choice;
    return {
      image: `${repository}@${record.digest}`,
      repository,
      digest: record.digest,
      ...(record.version !== undefined ? { version: record.version } : {}),
      ...(record.revision !== undefined ? { revision: record.revision } : {}),
      source: { stack: sourceStack, kind: pin !== undefined ? "pin" : "promotion" },
      gates: {
        states: choice.states,
        ...(choice.brokeGlass !== undefined ? { brokeGlass: choice.brokeGlass } : {}),
      },
    };
  }
  if (pin !== undefined) {
    const pinned = fromRef(pin, current, { stack: sourceStack, kind: "pin" });
    if (policy.requireSourceMatch && current?.digest !== pinned.digest) {
      throw new Error(
        `app "${app}": ${pinned.digest} is not the digest ${sourceStack} runs now ` +
          `(${current?.digest ?? "none"}); promote it to ${sourceStack} first, or roll back ` +
          `explicitly with pyfleet:images.rollback.${app}`,
      );
    }
    return pinned;
  }
  if (current === undefined) {
    const available = Object.keys(sourceApps ?? {});
    throw new Error(
      `app "${app}" is missing from the outputs of stack "${sourceStack}" ` +
        `(it exports: ${available.length > 0 ? available.join(", ") : "no apps"}); ` +
        `deploy it to ${sourceStack} first, or pin a digest with pyfleet:images.pins.${app}`,
    );
  }
  const { repository, digest } = splitDigestRef(current.image);
  return {
    image: current.image,
    repository,
    digest,
    ...(current.version !== undefined ? { version: current.version } : {}),
    ...(current.revision !== undefined ? { revision: current.revision } : {}),
    source: { stack: sourceStack, kind: "promotion" },
  };
}

function fromRef(
  ref: string,
  current: AppOutput | undefined,
  source: PromotedImage["source"],
): PromotedImage {
  const { repository, digest } = splitDigestRef(ref);
  const same = current?.digest === digest;
  return {
    image: ref,
    repository,
    digest,
    ...(same && current.version !== undefined ? { version: current.version } : {}),
    ...(same && current.revision !== undefined ? { revision: current.revision } : {}),
    source,
  };
}

/** Fully qualified stack name for a StackReference on any backend. */
export function qualifiedStackName(organization: string, project: string, stack: string): string {
  return stack.includes("/") ? stack : `${organization}/${project}/${stack}`;
}

/**
 * Resolves every app's promoted image up front and throws one error listing every problem
 * (missing apps, guard violations), so a promotion fails before it changes anything.
 */
export function checkPromotions(
  settings: {
    apps: readonly { name: string }[];
    images: { mode: "build" } | ({ mode: "promote"; fromStack: string } & PromotionPolicy);
  },
  sourceApps: Readonly<Record<string, AppOutput>> | undefined,
): void {
  if (settings.images.mode !== "promote") return;
  const images = settings.images;
  const problems: string[] = [];
  for (const app of settings.apps) {
    try {
      promotedImage(app.name, images.fromStack, sourceApps, images);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (problems.length > 0) {
    throw new PromotionRefused(
      `promotion from ${images.fromStack} refused; nothing was changed:\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
  }
}

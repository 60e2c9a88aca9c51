/**
 * Promotion by digest: staging and prod never build; they deploy exactly the digest the
 * previous environment runs, read from its stack outputs, or an explicit pin (rollback).
 * Pure: the source stack's outputs come in as a value.
 */

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
  source: { stack: string; kind: "build" | "promotion" | "pin"; promotedAt?: string };
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
  source: { stack: string; kind: "promotion" | "pin" };
}

/** Splits `repo@sha256:...`. */
export function splitDigestRef(ref: string): { repository: string; digest: string } {
  const match = /^([^@\s]+)@(sha256:[a-f0-9]{64})$/.exec(ref);
  if (!match?.[1] || !match[2]) {
    throw new Error(`"${ref}" is not a digest reference (<repository>@sha256:<64 hex>)`);
  }
  return { repository: match[1], digest: match[2] };
}

/**
 * Picks the image one app deploys: a pin when configured, else exactly what the source stack
 * exports. Throws naming the app and the stack when the source has no such app.
 */
export function promotedImage(
  app: string,
  sourceStack: string,
  sourceApps: Readonly<Record<string, AppOutput>> | undefined,
  pins: Readonly<Record<string, string>>,
): PromotedImage {
  const pin = pins[app];
  if (pin !== undefined) {
    const { repository, digest } = splitDigestRef(pin);
    const known = sourceApps?.[app];
    return {
      image: pin,
      repository,
      digest,
      ...(known?.digest === digest && known.version !== undefined
        ? { version: known.version }
        : {}),
      ...(known?.digest === digest && known.revision !== undefined
        ? { revision: known.revision }
        : {}),
      source: { stack: sourceStack, kind: "pin" },
    };
  }
  const output = sourceApps?.[app];
  if (output === undefined) {
    const available = Object.keys(sourceApps ?? {});
    throw new Error(
      `app "${app}" is missing from the outputs of stack "${sourceStack}" ` +
        `(it exports: ${available.length > 0 ? available.join(", ") : "no apps"}); ` +
        `deploy it to ${sourceStack} first, or pin a digest with pyfleet:images.pins.${app}`,
    );
  }
  const { repository, digest } = splitDigestRef(output.image);
  return {
    image: output.image,
    repository,
    digest,
    ...(output.version !== undefined ? { version: output.version } : {}),
    ...(output.revision !== undefined ? { revision: output.revision } : {}),
    source: { stack: sourceStack, kind: "promotion" },
  };
}

/** Fully qualified stack name for a StackReference on any backend. */
export function qualifiedStackName(organization: string, project: string, stack: string): string {
  return stack.includes("/") ? stack : `${organization}/${project}/${stack}`;
}

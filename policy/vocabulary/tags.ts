/**
 * Docker's tag grammar, and the tag pyfleet never deploys: `latest` is mutable, so a version
 * that reads "latest" is refused in settings and in tag computation, and the pack reports a
 * pod image that names it (K12).
 */

/** Docker's tag grammar. */
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** The mutable tag no image is ever pinned by. */
export const MUTABLE_TAG = "latest";

/**
 * The tag an image reference names, the way Docker reads it: after the last `:` that follows
 * the last `/`, before any `@digest`; undefined when it names none (`host:5000/app@sha256:...`).
 */
export function tagOf(reference: string): string | undefined {
  const name = reference.split("@")[0] ?? "";
  const colon = name.lastIndexOf(":");
  return colon > name.lastIndexOf("/") ? name.slice(colon + 1) : undefined;
}

/** Returns why `value` cannot be a tag, or undefined when it can. */
export function validateTagPart(value: string): string | undefined {
  if (value === "") return "is empty; a version must be a non-empty tag";
  if (value === MUTABLE_TAG) {
    return `is "${MUTABLE_TAG}", which is mutable; use a real version such as 1.2.0`;
  }
  if (!TAG_PATTERN.test(value)) {
    return (
      "is not a valid image tag (letters, digits, '_', '.', '-'; at most 128; not starting " +
      "with '.' or '-'); use a version such as 1.2.0 or 1.2.0-rc.1"
    );
  }
  return undefined;
}

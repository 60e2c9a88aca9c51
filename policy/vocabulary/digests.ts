/**
 * Image digests and digest references (`repository@sha256:<64 hex>`): the only way pyfleet
 * refers to an image it deploys (K12). Tag computation builds them, settings accept pins in
 * this form, and the pack and the checklist tests recognise a pinned image by it.
 */

/** A sha256 image digest. */
export const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;

/** An image pinned by digest: a repository (no `@`, no space) and a sha256 digest. */
export const DIGEST_REF_PATTERN = /^[^@\s]+@sha256:[a-f0-9]{64}$/;

/** True when `digest` is a sha256 image digest. */
export function isDigest(digest: string): boolean {
  return DIGEST_PATTERN.test(digest);
}

/** True when `reference` pins an image by digest. */
export function isDigestRef(reference: string): boolean {
  return DIGEST_REF_PATTERN.test(reference);
}

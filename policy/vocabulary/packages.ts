/**
 * Debian package names as the image build accepts them (`libgomp1`, `curl=7.88.1-10`): settings
 * refuse anything else, and the Dockerfile generator refuses it again before writing a RUN line,
 * since a name is pasted into a shell command.
 */

/** A Debian package name, optionally `=version`. */
export const DEBIAN_PACKAGE_PATTERN = /^[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+:~-]+)?$/;

/** True when `name` is a Debian package name, optionally `=version`. */
export function isDebianPackage(name: string): boolean {
  return DEBIAN_PACKAGE_PATTERN.test(name);
}

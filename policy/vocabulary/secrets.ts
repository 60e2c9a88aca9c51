/**
 * Which names look like they hold a secret: env vars (K23), ConfigMap keys (C7) and build
 * arguments (P2, D11). Settings, the image component, the policy pack and the checklist tests
 * all judge names with this one pattern, so a name one of them lets through none refuses.
 */

/** Names of env vars, ConfigMap keys and build args that look like they hold a secret. */
export const SECRET_NAME_PATTERN = /pass(word)?|secret|token|credential|api[_-]?key|private/i;

/** True when `name` looks like it holds a secret. */
export function looksLikeSecret(name: string): boolean {
  return SECRET_NAME_PATTERN.test(name);
}

/**
 * Whether a URL carries credentials: a user (and password) before the host, or a query
 * parameter whose name looks like a secret (or is an auth or access key parameter). Either
 * would land in build arguments and the image history.
 */
export function hasUrlCredentials(url: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url)) return true;
  const query = url.split("#")[0]!.split("?").slice(1).join("?");
  return query
    .split("&")
    .map((pair) => decodeURIComponent(pair.split("=")[0] ?? ""))
    .some((name) => looksLikeSecret(name) || /^(auth|access[_-]?key)$/i.test(name));
}

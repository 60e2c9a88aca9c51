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

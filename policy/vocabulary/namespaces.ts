/**
 * Namespaces applications never go into (K26): the component refuses them before creating
 * anything, and the policy pack reports any object placed there.
 */

/** Namespaces applications never go into. */
export const SYSTEM_NAMESPACES: readonly string[] = ["default", "kube-system"];

/** True when `namespace` is one applications never go into. */
export function isSystemNamespace(namespace: string): boolean {
  return SYSTEM_NAMESPACES.includes(namespace);
}

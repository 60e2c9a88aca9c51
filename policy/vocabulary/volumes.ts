/**
 * Volume types a restricted pod may use (K8). hostPath is not among them; the pack reports it
 * under K7 (host access) rather than twice.
 */

/** Volume types a restricted pod may use (K8). */
export const ALLOWED_VOLUME_TYPES: readonly string[] = [
  "configMap",
  "secret",
  "emptyDir",
  "projected",
  "downwardAPI",
  "persistentVolumeClaim",
  "ephemeral",
  "csi",
];

/** True when a volume source field names an allowed volume type (K8). */
export function isAllowedVolumeType(field: string): boolean {
  return ALLOWED_VOLUME_TYPES.includes(field);
}

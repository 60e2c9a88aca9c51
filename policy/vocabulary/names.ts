/**
 * Kubernetes' own name grammars (apimachinery's validation package), written once for the
 * settings schema, the object checks of `npm run validate` and the policy pack. Dependency-free
 * so every layer can import it.
 */

/** DNS-1123 label: lower-case alphanumerics and '-', at most 63, alphanumeric at both ends. */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Longest DNS-1123 label. */
export const DNS1123_LABEL_MAX = 63;

/** DNS-1123 subdomain: dot-separated DNS-1123 labels, at most 253 characters. */
export const DNS1123_SUBDOMAIN =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Longest DNS-1123 subdomain. */
export const DNS1123_SUBDOMAIN_MAX = 253;

/** DNS-1035 label (Service names): like DNS-1123 but starting with a letter. */
export const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Label value: empty, or at most 63 of [A-Za-z0-9_.-] with alphanumerics at both ends. */
export const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** Longest label value. */
export const LABEL_VALUE_MAX = 63;

/** IANA service name (container and Service port names): at most 15, a letter among them. */
export const PORT_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
/** Longest port name. */
export const PORT_NAME_MAX = 15;

/** Lowest and highest TCP/UDP port. */
export const PORT_RANGE = { min: 1, max: 65535 } as const;

/** Why `value` is not a DNS-1123 label, or undefined when it is. */
export function dns1123LabelError(value: string): string | undefined {
  if (value.length > DNS1123_LABEL_MAX) {
    return `is ${value.length} characters; a DNS-1123 label has at most ${DNS1123_LABEL_MAX}`;
  }
  if (!DNS1123_LABEL.test(value)) {
    return "is not a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)";
  }
  return undefined;
}

/** Why `value` is not a DNS-1123 subdomain, or undefined when it is. */
export function dns1123SubdomainError(value: string): string | undefined {
  if (value.length > DNS1123_SUBDOMAIN_MAX) {
    return `is ${value.length} characters; a DNS-1123 subdomain has at most ${DNS1123_SUBDOMAIN_MAX}`;
  }
  if (!DNS1123_SUBDOMAIN.test(value)) {
    return "is not a DNS-1123 subdomain (dot-separated lower-case labels of letters, digits and '-')";
  }
  return undefined;
}

/** Why `value` is not a label value, or undefined when it is. */
export function labelValueError(value: string): string | undefined {
  if (value.length > LABEL_VALUE_MAX) {
    return `is ${value.length} characters; a Kubernetes label value has at most ${LABEL_VALUE_MAX}`;
  }
  if (!LABEL_VALUE.test(value)) {
    return "is not a Kubernetes label value (letters, digits, '-', '_', '.'; starting and ending with a letter or digit)";
  }
  return undefined;
}

/**
 * Why `value` is not a host an Ingress rule accepts, or undefined when it is: a DNS-1123
 * subdomain with at least one dot, optionally a leading `*.` wildcard, never an IP address.
 */
export function ingressHostError(value: string): string | undefined {
  const bare = value.startsWith("*.") ? value.slice(2) : value;
  if (/^[0-9.]+$/.test(bare)) return "is an IP address; an Ingress host must be a DNS name";
  if (value.endsWith(".")) return "ends with '.'; an Ingress host is written without the root dot";
  const error = dns1123SubdomainError(bare);
  if (error !== undefined) return error;
  for (const label of bare.split(".")) {
    if (label.length > DNS1123_LABEL_MAX) {
      return `has the label "${label.slice(0, 20)}..." of ${label.length} characters; each DNS label has at most ${DNS1123_LABEL_MAX}`;
    }
  }
  return undefined;
}

/** Why `value` is not a port number, or undefined when it is. */
export function portError(value: number): string | undefined {
  return Number.isInteger(value) && value >= PORT_RANGE.min && value <= PORT_RANGE.max
    ? undefined
    : `is not a port number (a whole number from ${PORT_RANGE.min} to ${PORT_RANGE.max})`;
}

/** Why `value` is not a port name, or undefined when it is. */
export function portNameError(value: string): string | undefined {
  if (value.length > PORT_NAME_MAX || !PORT_NAME.test(value) || !/[a-z]/.test(value)) {
    return `is not a port name (at most ${PORT_NAME_MAX} lower-case letters, digits and '-', with at least one letter)`;
  }
  return undefined;
}

/**
 * Identity and secrets (K22-K23 of CHECKLIST.md): pods run as their own ServiceAccount without
 * its token, and env vars whose names look like secrets take their values from Secrets.
 */
import type { PyfleetResourcePolicy } from "./framework";
import { resourcePolicy } from "./framework";
import { WORKLOAD_TYPES, eachContainer, podOf } from "./pods";
import { message, show, type Resource } from "./resource";
import { asArray, asString, at, isUnknown } from "./values";
import { looksLikeSecret } from "./vocabulary";

/** K22: no service-account token, and an own ServiceAccount. */
export function checkServiceAccount(resource: Resource): string[] {
  const pod = podOf(resource);
  if (!pod?.spec) return [];
  const out: string[] = [];
  const automount = pod.spec["automountServiceAccountToken"];
  if (automount !== false && !isUnknown(automount)) {
    const problem =
      automount === undefined
        ? `${pod.specPath}.automountServiceAccountToken is unset (the token is mounted)`
        : `${pod.specPath}.automountServiceAccountToken is ${show(automount)}`;
    out.push(message(resource, problem, "set it to false", "K22"));
  }
  const account = pod.spec["serviceAccountName"] ?? pod.spec["serviceAccount"];
  if (account === undefined || account === "" || account === "default") {
    const problem =
      account === undefined || account === ""
        ? `${pod.specPath}.serviceAccountName is unset, so the pods run as the namespace's default ServiceAccount`
        : `${pod.specPath}.serviceAccountName is "default"`;
    out.push(
      message(resource, problem, "create a ServiceAccount for the app and name it here", "K22"),
    );
  }
  return out;
}

/** K23: no literal values in env vars whose names look like secrets. */
export function checkEnvSecrets(resource: Resource): string[] {
  return eachContainer(resource, (r, _pod, c) =>
    (asArray(c.spec["env"]) ?? []).flatMap((entry) => {
      const name = asString(at(entry, "name"));
      const value = at(entry, "value");
      if (name === undefined || !looksLikeSecret(name) || value === undefined || value === "") {
        return [];
      }
      const problem = `${c.label} sets env ${name} to a literal value`;
      const fix = "take it from a Secret (valueFrom.secretKeyRef or envFrom.secretRef)";
      return [message(r, problem, fix, "K23")];
    }),
  );
}

/** The identity and secret policies. */
export const identityPolicies: PyfleetResourcePolicy[] = [
  resourcePolicy({
    name: "pod-service-account",
    description: "Pods use their own ServiceAccount and do not mount its token.",
    checklist: ["K22"],
    severity: "medium",
    remediationSteps: "Set serviceAccountName and automountServiceAccountToken: false.",
    types: WORKLOAD_TYPES,
    check: checkServiceAccount,
  }),
  resourcePolicy({
    name: "pod-env-secrets",
    description: "Env vars whose names look like secrets take their values from Secrets.",
    checklist: ["K23"],
    severity: "high",
    remediationSteps: "Use valueFrom.secretKeyRef or envFrom.secretRef instead of value.",
    types: WORKLOAD_TYPES,
    check: checkEnvSecrets,
  }),
];

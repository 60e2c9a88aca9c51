/**
 * pyfleet's shared vocabulary: every rule that settings (`stacks/`), the pure model, the
 * components, the policy pack and the checklist tests all need, written once. It imports
 * nothing outside this folder, so the policy pack stays publishable on its own.
 */
export * from "./digests";
export * from "./dockerignore";
export * from "./dockerignoreMatch";
export * from "./durations";
export * from "./environments";
export * from "./labels";
export * from "./names";
export * from "./namespaces";
export * from "./packages";
export * from "./podSecurity";
export * from "./quantity";
export * from "./rollout";
export * from "./secrets";
export * from "./tags";
export * from "./volumes";

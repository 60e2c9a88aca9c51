/**
 * The e2e checks' vocabulary: a check is a pure verdict over what a scenario observed, so the
 * same function that judges the real engine's output is tested on made-up observations
 * (test/unit/e2eChecks.test.ts). Every check is registered by its id, and that test walks the
 * registry: a check without a passing and a broken case fails the suite.
 */

/** A named, pure verdict over one observation. */
export interface Check<O> {
  /** Stable id, unique across the harness. */
  readonly id: string;
  /**
   * Returns a detail for the report when the observation passes; throws (see {@link ensure})
   * with the reason when it does not.
   */
  readonly verify: (observation: O) => string | void;
}

/** The outcome of one check on one observation. */
export interface Verdict {
  /** Whether the observation passed. */
  passed: boolean;
  /** The pass detail, or the reason of the failure. */
  detail: string;
}

const registry = new Map<string, Check<never>>();

/** Defines and registers a check; ids are unique, so a copy-pasted id fails at import. */
export function defineCheck<O>(id: string, verify: (observation: O) => string | void): Check<O> {
  if (registry.has(id)) throw new Error(`e2e check id "${id}" is defined twice`);
  const check: Check<O> = { id, verify };
  registry.set(id, check);
  return check;
}

/** Every check defined so far, in definition order. */
export function registeredChecks(): readonly Check<never>[] {
  return [...registry.values()];
}

/** Throws the failure `message` unless `condition` holds. */
export function ensure(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** Runs a check; an exception anywhere in it is a failure carrying its message. */
export function judge<O>(check: Check<O>, observation: O): Verdict {
  try {
    return { passed: true, detail: check.verify(observation) ?? "" };
  } catch (error) {
    return { passed: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Promotion gates: what a stage must have shown about a digest before the next stage takes
 * it. The source stage's outputs keep a short history per app of the digests it ran (since
 * when, until when, and the last verification of each); the next stage takes the newest one
 * that has soaked and verified there, even after the source has moved on, so frequent builds
 * never starve it. A failed re-verification un-verifies a digest; an explicit break-glass
 * setting with a reason overrides soak and verification, and says so. Pure: times come in.
 */
import { formatDuration } from "../policy/vocabulary";
import type { GatePolicy } from "../stacks/types";

/** The last verification of one digest on a stage: smoke checks through its Ingress. */
export interface Verification {
  passed: boolean;
  /** ISO time the checks ran. */
  at: string;
  /** What failed (`GET /healthz answered 503`), empty when passed. */
  failures: string[];
}

/** One digest a stage ran, as its outputs record it (`apps.<name>.history`). */
export interface RunRecord {
  /** `sha256:...`. */
  digest: string;
  /** ISO time the stage started running it. */
  since: string;
  /** ISO time another digest replaced it; absent while it runs. */
  until?: string;
  /** App version and git SHA the digest was built from, when known. */
  version?: string;
  revision?: string;
  verification?: Verification;
}

/** How many digests a stage remembers per app. */
export const HISTORY_LIMIT = 10;

/**
 * The history after a run that deploys `digest` at `now`: unchanged when it already runs;
 * otherwise the running one is closed (`until`) and `digest` starts a fresh record at the
 * head (a digest that comes back has to soak and verify again). Oldest records fall off.
 */
export function recordRun(
  history: readonly RunRecord[],
  digest: string,
  now: Date,
  limit = HISTORY_LIMIT,
  provenance: { version?: string; revision?: string } = {},
): RunRecord[] {
  if (history[0]?.digest === digest && history[0].until === undefined) return [...history];
  const at = now.toISOString();
  const rest = history
    .filter((r) => r.digest !== digest)
    .map((r) => (r.until === undefined ? { ...r, until: at } : r));
  const record: RunRecord = {
    digest,
    since: at,
    ...(provenance.version !== undefined ? { version: provenance.version } : {}),
    ...(provenance.revision !== undefined ? { revision: provenance.revision } : {}),
  };
  return [record, ...rest].slice(0, Math.max(1, limit));
}

/** The history with `digest`'s verification replaced by `result` (a failure un-verifies). */
export function recordVerification(
  history: readonly RunRecord[],
  digest: string,
  result: Verification,
): RunRecord[] {
  return history.map((r) => (r.digest === digest ? { ...r, verification: result } : r));
}

export type { GatePolicy };

/** One gate's verdict on one digest, as `promote` prints it and a refusal names it. */
export interface GateState {
  gate: "ran" | "soaked" | "verified";
  ok: boolean;
  detail: string;
}

/** How long the source ran (or has been running) the digest. */
export function soakedMs(record: RunRecord, now: Date): number {
  const end = record.until !== undefined ? Date.parse(record.until) : now.getTime();
  return Math.max(0, end - Date.parse(record.since));
}

/** Every gate's state for one digest (undefined: the source never ran it). */
export function gateStates(
  record: RunRecord | undefined,
  policy: GatePolicy,
  sourceStack: string,
  now: Date,
): GateState[] {
  if (record === undefined) {
    return [{ gate: "ran", ok: false, detail: `${sourceStack} never ran it` }];
  }
  const states: GateState[] = [];
  const ran = soakedMs(record, now);
  const window =
    record.until === undefined
      ? `since ${record.since}`
      : `from ${record.since} to ${record.until}`;
  if (policy.soakMs > 0) {
    states.push({
      gate: "soaked",
      ok: ran >= policy.soakMs,
      detail:
        ran >= policy.soakMs
          ? `ran ${formatDuration(ran)} on ${sourceStack} (${window}), soak is ${formatDuration(policy.soakMs)}`
          : `ran ${formatDuration(ran)} of the ${formatDuration(policy.soakMs)} soak on ${sourceStack} (${window})`,
    });
  }
  if (policy.requireVerified) {
    const v = record.verification;
    states.push({
      gate: "verified",
      ok: v?.passed === true,
      detail:
        v === undefined
          ? `not verified on ${sourceStack} yet`
          : v.passed
            ? `verified on ${sourceStack} at ${v.at}`
            : `verification on ${sourceStack} failed at ${v.at}: ${v.failures.join("; ")}`,
    });
  }
  return states;
}

/** Whether every gate passed, or the policy breaks glass over soak and verification. */
export function gatesOpen(states: readonly GateState[], policy: GatePolicy): boolean {
  return states.every((s) => s.ok || (policy.breakGlass !== undefined && s.gate !== "ran"));
}

/** The digest a gated stage takes for one app, with the states that let it through. */
export interface GatedChoice {
  record: RunRecord;
  states: GateState[];
  /** Set when the break-glass setting let a closed gate through. */
  brokeGlass?: string;
}

/**
 * Picks what a gated stage deploys for one app: `wanted` (a pin) when given, else the newest
 * digest of the source's history whose gates are open. Throws naming the app, each digest
 * considered and the gate that holds it back, and what to do.
 */
export function pickGated(
  app: string,
  sourceStack: string,
  history: readonly RunRecord[],
  policy: GatePolicy,
  now: Date,
  wanted?: string,
): GatedChoice {
  const considered = wanted === undefined ? history : history.filter((r) => r.digest === wanted);
  const judged = considered.map((record) => ({
    record,
    states: gateStates(record, policy, sourceStack, now),
  }));
  // An honest pass first: break glass only when no digest gets through on its own.
  const open = judged.find((j) => j.states.every((s) => s.ok));
  if (open) return open;
  const glass = policy.breakGlass;
  const forced = glass && judged.find((j) => gatesOpen(j.states, policy));
  if (glass && forced) return { ...forced, brokeGlass: glass.reason };
  const held: string[] = [];
  for (const { record, states } of judged) {
    const reasons = states.filter((s) => !s.ok).map((s) => s.detail);
    held.push(`${short(record.digest)}: ${reasons.join("; ")}`);
  }
  if (wanted !== undefined && considered.length === 0) {
    held.push(`${short(wanted)}: ${gateStates(undefined, policy, sourceStack, now)[0]!.detail}`);
  }
  if (held.length === 0) held.push(`${sourceStack} records no digest of it`);
  throw new Error(
    `app "${app}": no digest ${sourceStack} ran passes the gates:\n` +
      held.map((h) => `      ${h}`).join("\n") +
      `\n    wait for the soak and for ${sourceStack} to verify it, or set ` +
      "pyfleet:images.breakGlass.reason to override soak and verification on record",
  );
}

/** `sha256:` and the first 12 hex digits, as registries' UIs shorten digests. */
function short(digest: string): string {
  return digest.slice(0, 19);
}

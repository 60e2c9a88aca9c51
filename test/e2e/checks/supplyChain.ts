/**
 * Checks of the supply chain on the real registry: what dev builds is signed, with a signed
 * SBOM attestation that cosign verifies by hand; the promoting stacks verify before deploying;
 * prod refuses, before changing anything, an unsigned digest and one with a blocking advisory,
 * and takes the latter under an unexpired exception only.
 */
import { defineCheck, ensure } from "../lib/check";
import { tail, type AppOut, type CommandRun } from "./observed";

/** A stack's outputs and the registry's tags after a signed `up`. */
export interface SignedStackObservation {
  stack: string;
  up: CommandRun;
  apps: Record<string, AppOut>;
  names: readonly string[];
  /** Tags of each app's repository. */
  tags: Record<string, string[]>;
  /** `cosign verify` and `verify-attestation` by hand, per app (the README's commands). */
  byHand: Record<string, { verify: CommandRun; attestation: CommandRun }>;
  /** sha256 of the public key's PEM. */
  signer: string;
  /** The stack's exported state and the pulumi log, which must not hold `secrets`. */
  state: string;
  log: string;
  /** The private key's body and its password. */
  secrets: string[];
}

/** Every app's digest is signed and attested in the registry, and its outputs say so. */
export const stackSigned = defineCheck<SignedStackObservation>("stack-signed", (o) => {
  ensure(o.up.status === 0, `up ${o.stack} failed:\n${tail(o.up)}`);
  ensure(o.names.length > 0, "no app to judge");
  const packages: string[] = [];
  for (const app of o.names) {
    const out = o.apps[app];
    ensure(out, `${o.stack} exports no ${app}`);
    const chain = out.supplyChain;
    ensure(chain, `${app}: the outputs carry no supplyChain`);
    ensure(chain.signed, `${app}: not signed`);
    ensure(chain.signer === o.signer, `${app}: signer ${chain.signer}, expected ${o.signer}`);
    ensure(chain.sbom.format === "spdx-json", `${app}: SBOM format ${chain.sbom.format}`);
    ensure(chain.sbom.packages >= 10, `${app}: the SBOM lists ${chain.sbom.packages} packages`);
    const stem = out.digest.replace(":", "-");
    for (const suffix of [".sig", ".att"]) {
      ensure(
        (o.tags[app] ?? []).includes(`${stem}${suffix}`),
        `${app}: the registry has no ${stem}${suffix} (tags: ${(o.tags[app] ?? []).join(", ")})`,
      );
    }
    const hand = o.byHand[app];
    ensure(hand, `${app}: not verified by hand`);
    ensure(hand.verify.status === 0, `${app}: cosign verify failed:\n${tail(hand.verify)}`);
    ensure(
      hand.attestation.status === 0 && hand.attestation.stdout.includes("payload"),
      `${app}: cosign verify-attestation failed (exit ${hand.attestation.status}):\n${tail(hand.attestation)}`,
    );
    packages.push(`${app} ${chain.sbom.packages} packages`);
  }
  ensure(o.secrets.length > 0 && o.state.length > 0, "no state or secrets to look through");
  for (const secret of o.secrets) {
    ensure(!o.state.includes(secret), "the signing key or password is in the state in the clear");
    ensure(!o.log.includes(secret), "the signing key or password is in the log");
  }
  return `${o.stack} signed: ${packages.join(", ")}`;
});

/** A promotion the supply chain refuses, and what the stage ran before and after it. */
export interface SupplyRefusalObservation {
  run: CommandRun;
  /** The words the refusal must carry. */
  expected: RegExp[];
  /** What the stack's outputs said before and after (image per app). */
  before: Record<string, string>;
  after: Record<string, string>;
}

/** The command failed naming the app, the digest and what is missing, and changed nothing. */
export const supplyChainRefuses = defineCheck<SupplyRefusalObservation>(
  "supply-chain-refuses",
  (o) => {
    ensure(o.run.status !== 0, "the command succeeded");
    for (const words of o.expected) {
      ensure(words.test(o.run.output), `the refusal does not say ${words}:\n${tail(o.run)}`);
    }
    ensure(
      JSON.stringify(o.before) === JSON.stringify(o.after),
      `the stack changed: ${JSON.stringify(o.before)} -> ${JSON.stringify(o.after)}`,
    );
    const line = o.run.output.split("\n").find((l) => /app "/.test(l)) ?? "";
    return `refused: ${line.trim().slice(0, 160)}`;
  },
);

/** A promotion that should pass the supply chain, and the app whose evidence it records. */
export interface SupplyPassObservation {
  run: CommandRun;
  app: string;
  apps: Record<string, AppOut>;
  /** The advisory the outputs must list (still reported when let through), if any. */
  advisory?: string;
}

/** The `up` succeeded, and the app's outputs record the verified evidence. */
export const supplyChainPasses = defineCheck<SupplyPassObservation>("supply-chain-passes", (o) => {
  ensure(o.run.status === 0, `failed:\n${tail(o.run)}`);
  const chain = o.apps[o.app]?.supplyChain;
  ensure(chain?.signed === true, `${o.app}: no verified signature in the outputs`);
  if (o.advisory !== undefined) {
    const ids = chain.vulnerabilities?.findings.map((f) => f.id) ?? [];
    ensure(ids.includes(o.advisory), `${o.app}: the scan lists ${ids.join(", ") || "nothing"}`);
  }
  return `${o.app}: ${chain.vulnerabilities?.summary ?? "signed, no scan"}`;
});

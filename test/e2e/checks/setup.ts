/** Checks of the local engine the other scenarios run on. */
import { defineCheck, ensure } from "../lib/check";

/** What is observed of the local engine once it has started. */
export interface EngineObservation {
  /** Seconds the start took. */
  seconds: number;
  /** Exit status and text of `infra/local-infra.sh status` (dockerd, registry, BuildKit). */
  infraStatus: { status: number; text: string };
  /** HTTP status of the registry's `/v2/` (0 when it did not answer). */
  registryStatus: number;
  /** Exit status and output of `pulumi version` from the toolchain. */
  pulumiVersion: { status: number; text: string };
}

/** dockerd, the registry, BuildKit and the Pulumi toolchain all answer. */
export const engineIsUp = defineCheck<EngineObservation>("engine-is-up", (o) => {
  ensure(
    o.infraStatus.status === 0,
    `local-infra.sh status exited ${o.infraStatus.status}:\n${o.infraStatus.text}`,
  );
  for (const daemon of ["dockerd", "registry", "buildkitd"]) {
    ensure(
      new RegExp(`^${daemon}:\\s+running`, "m").test(o.infraStatus.text),
      `${daemon} is not running:\n${o.infraStatus.text}`,
    );
  }
  ensure(
    o.registryStatus === 200,
    `the registry's /v2/ answered ${o.registryStatus || "nothing"}, expected 200`,
  );
  ensure(
    o.pulumiVersion.status === 0 && /^v?3\.\d+\.\d+/.test(o.pulumiVersion.text.trim()),
    `pulumi version exited ${o.pulumiVersion.status} with "${o.pulumiVersion.text.trim()}"`,
  );
  return `${o.seconds}s, pulumi ${o.pulumiVersion.text.trim()}`;
});

/**
 * The supply chain of a pushed digest: its SBOM (syft, SPDX JSON), a signature and a signed
 * SBOM attestation (cosign, by digest, with the stack's key and no transparency log), and the
 * vulnerability scan of that SBOM (osv-scanner on an offline OSV database). The stack that
 * builds records all of it in an {@link ImageEvidence} before its Deployment rolls; a stack
 * that promotes verifies it with {@link verifyEvidence} while the program runs, before any
 * resource is registered, and records what it verified in an {@link ImageEvidence} too, which
 * the policy pack's `images-signed` rule looks for.
 *
 * Self-contained (requires inside `evidenceTools`): Pulumi serializes it into the dynamic
 * provider. Keys and passwords go to the tools through a private folder removed afterwards,
 * never through arguments or state in the clear.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { PromotionRefused } from "../model/promotion";
import { registryHost, writeDockerAuth } from "./crane";
import {
  describeFinding,
  findingsOf,
  judgeScan,
  refusalOf,
  sbomForDatabase,
  summarize,
  uncheckedEcosystems,
  type Evidence,
  type ScanResult,
} from "../model/supplyChain";
import type { VulnerabilityPolicy } from "../stacks/types";

/** Environment variables naming each tool's binary (infra/go-tools.sh builds them); else PATH's. */
export const TOOL_VARIABLES = {
  cosign: "PYFLEET_COSIGN",
  syft: "PYFLEET_SYFT",
  "osv-scanner": "PYFLEET_OSV_SCANNER",
} as const;

/** Where the registry is and who may read and write it. */
export interface RegistryAccess {
  username?: string;
  password?: string;
}

/** What signing needs: the private key's PEM and its password (secrets). */
export interface SigningKey {
  key: string;
  password: string;
}

/** The verification and scanning a digest gets, and where its evidence comes from. */
export interface EvidenceRequest extends RegistryAccess {
  /** `<repository>@sha256:...`. */
  image: string;
  /** PEM of the public key the signature must verify against (verification). */
  publicKey?: string;
  /** Absolute folder of OSV exports (`<Ecosystem>/all.zip`); none: no scan. */
  database?: string;
}

/** What failed, by name, for a refusal to list. */
export class EvidenceMissing extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EvidenceMissing";
  }
}

/**
 * The tools for one registry. `sign` makes the SBOM, attests and signs; `verify` checks the
 * signature and the attestation and returns the SBOM from it; `scan` runs the gate's scan.
 * Synchronous: the program calls `verify` before it registers anything.
 */
export function evidenceTools(access: RegistryAccess & { image: string }) {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { execFileSync, spawnSync } =
    require("node:child_process") as typeof import("node:child_process");
  const crypto = require("node:crypto") as typeof import("node:crypto");
  const fs = require("node:fs") as typeof import("node:fs");
  const os = require("node:os") as typeof import("node:os");
  const nodePath = require("node:path") as typeof import("node:path");
  /* eslint-enable @typescript-eslint/no-require-imports */
  const variables: Record<string, string> = {
    cosign: "PYFLEET_COSIGN",
    syft: "PYFLEET_SYFT",
    "osv-scanner": "PYFLEET_OSV_SCANNER",
  };
  const variableOf = (tool: string) => variables[tool] ?? tool;
  const binary = (tool: string) => {
    const named = process.env[variableOf(tool)]?.trim() ?? "";
    return named === "" ? tool : named;
  };
  const { host, loopback } = registryHost(access.image);
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "pyfleet-evidence-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Nothing phones home: no update checks, no transparency log, no TUF refresh.
    SYFT_CHECK_FOR_APP_UPDATE: "false",
    ...(loopback ? { SYFT_REGISTRY_INSECURE_USE_HTTP: "true" } : {}),
    COSIGN_PASSWORD: "",
  };
  if (access.username !== undefined && access.password !== undefined) {
    writeDockerAuth(dir, host, access.username, access.password);
    env["DOCKER_CONFIG"] = dir;
  }
  // Key-based verification needs no Sigstore root; an empty one keeps cosign from fetching it.
  const trustedRoot = nodePath.join(dir, "trusted_root.json");
  fs.writeFileSync(
    trustedRoot,
    JSON.stringify({ mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1" }),
  );
  const registryFlags = loopback ? ["--allow-http-registry", "--allow-insecure-registry"] : [];
  const run = (tool: "cosign" | "syft" | "osv-scanner", args: string[], extra = {}) => {
    try {
      return execFileSync(binary(tool), args, {
        env: { ...env, ...extra },
        encoding: "utf8",
        maxBuffer: 256 * 2 ** 20,
        timeout: 300_000,
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (error) {
      const e = error as { code?: string; stderr?: string; message: string };
      if (e.code === "ENOENT") {
        throw new Error(
          `${tool} is not installed: build it with \`bash infra/go-tools.sh ${tool}\` and put ` +
            `it on PATH, or name it in ${variableOf(tool)}`,
        );
      }
      const lines = (e.stderr ?? e.message)
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith("WARNING"));
      throw new EvidenceMissing(lines.slice(-2).join("; ") || e.message);
    }
  };
  const sha256 = (text: string) => crypto.createHash("sha256").update(text).digest("hex");
  const sbomFacts = (document: string) => {
    const parsed = JSON.parse(document) as { packages?: unknown[] };
    return {
      format: "spdx-json" as const,
      sha256: sha256(document),
      packages: parsed.packages?.length ?? 0,
    };
  };
  const publicKeyFile = (pem: string) => {
    const file = nodePath.join(dir, "cosign.pub");
    fs.writeFileSync(file, pem, { mode: 0o600 });
    return file;
  };

  return {
    /** syft's SPDX JSON document of the pushed image. */
    sbom(): string {
      const file = nodePath.join(dir, "sbom.spdx.json");
      run("syft", ["scan", `registry:${access.image}`, "-q", "-o", `spdx-json=${file}`]);
      return fs.readFileSync(file, "utf8");
    },
    /** Signs the digest and attaches `sbom` as a signed SPDX attestation (no transparency log). */
    sign(key: { key: string; password: string }, sbom: string): void {
      const keyFile = nodePath.join(dir, "cosign.key");
      const predicate = nodePath.join(dir, "predicate.spdx.json");
      fs.writeFileSync(keyFile, key.key, { mode: 0o600 });
      fs.writeFileSync(predicate, sbom, { mode: 0o600 });
      const secret = { COSIGN_PASSWORD: key.password };
      const common = ["--key", keyFile, "--tlog-upload=false", "--yes", ...registryFlags];
      run(
        "cosign",
        ["attest", ...common, "--type", "spdxjson", "--predicate", predicate, access.image],
        secret,
      );
      run("cosign", ["sign", ...common, access.image], secret);
      fs.rmSync(keyFile, { force: true });
    },
    /**
     * Checks the digest's signature and its SPDX attestation against `publicKey` and returns
     * the SBOM the attestation carries. Throws {@link EvidenceMissing} naming what is missing.
     */
    verify(publicKey: string): { sbom: string; signer: string } {
      const keyFile = publicKeyFile(publicKey);
      const common = [
        "--key",
        keyFile,
        "--insecure-ignore-tlog=true",
        "--trusted-root",
        trustedRoot,
        ...registryFlags,
      ];
      try {
        run("cosign", ["verify", ...common, "--output", "json", access.image]);
      } catch (error) {
        if (!(error instanceof EvidenceMissing)) throw error;
        throw new EvidenceMissing(
          `no signature verifies against the public key (${error.message})`,
        );
      }
      let out: string;
      try {
        out = run("cosign", [
          "verify-attestation",
          ...common,
          "--type",
          "spdxjson",
          "--output",
          "json",
          access.image,
        ]);
      } catch (error) {
        if (!(error instanceof EvidenceMissing)) throw error;
        throw new EvidenceMissing(`no signed SBOM attestation (${error.message})`);
      }
      // One DSSE envelope per line; its payload is an in-toto statement with the SPDX predicate.
      const envelope = out.split("\n").find((l) => l.trim().startsWith("{"));
      const statement = JSON.parse(
        Buffer.from(
          (JSON.parse(envelope ?? "{}") as { payload?: string }).payload ?? "",
          "base64",
        ).toString("utf8") || "{}",
      ) as { predicate?: unknown };
      if (statement.predicate === undefined) {
        throw new EvidenceMissing("the SBOM attestation carries no SPDX document");
      }
      return { sbom: JSON.stringify(statement.predicate), signer: sha256(publicKey) };
    },
    /** The SBOM's advisories in the OSV database at `database` (`<Ecosystem>/all.zip`). */
    scan(sbom: string, database: string): { report: string; stderr: string } {
      if (!fs.existsSync(database) || !fs.statSync(database).isDirectory()) {
        throw new Error(
          `pyfleet:vulnerabilities.database: "${database}" is not a folder; point it at a ` +
            "mirror of the OSV database (<Ecosystem>/all.zip files)",
        );
      }
      // osv-scanner reads <path>/osv-scalibr/<Ecosystem>/all.zip; the mirror keeps the export's layout.
      const root = nodePath.join(dir, "osv");
      fs.mkdirSync(root);
      fs.symlinkSync(nodePath.resolve(database), nodePath.join(root, "osv-scalibr"));
      const file = nodePath.join(dir, "scan.spdx.json");
      fs.writeFileSync(file, sbom);
      const result = spawnSync(
        binary("osv-scanner"),
        ["scan", "source", "--offline", "--local-db-path", root, "--format", "json", "-L", file],
        { env, encoding: "utf8", maxBuffer: 256 * 2 ** 20, timeout: 300_000 },
      );
      if (result.error) {
        throw new Error(
          `osv-scanner cannot run (${result.error.message}): build it with ` +
            "`bash infra/go-tools.sh osv-scanner`, or name it in PYFLEET_OSV_SCANNER",
        );
      }
      // 0: nothing found, 1: advisories found; anything else is the scanner failing.
      if (result.status !== 0 && result.status !== 1) {
        throw new Error(
          `osv-scanner failed: ${(result.stderr || "").trim().split("\n").slice(-2).join("; ")}`,
        );
      }
      return { report: result.stdout, stderr: result.stderr };
    },
    sbomFacts,
    close(): void {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The scan result of an SBOM, ready for the outputs (model/supplyChain.ts reads the report). */
export function scanResult(
  tools: ReturnType<typeof evidenceTools>,
  sbom: string,
  database: string,
  now: Date,
): ScanResult {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const fs = require("node:fs") as typeof import("node:fs");
  const nodePath = require("node:path") as typeof import("node:path");
  /* eslint-enable @typescript-eslint/no-require-imports */
  const available = fs.existsSync(database)
    ? fs.readdirSync(database).filter((e) => fs.existsSync(nodePath.join(database, e, "all.zip")))
    : [];
  const judged = sbomForDatabase(sbom, available);
  const { report, stderr } = tools.scan(judged.sbom, database);
  const unchecked = [...new Set([...judged.unchecked, ...uncheckedEcosystems(stderr)])].sort();
  return { at: now.toISOString(), findings: findingsOf(report), unchecked };
}

/**
 * What a promoting stack verifies of one digest before deploying it: the signature, the signed
 * SBOM attestation, and (with a database) the SBOM's advisories. Throws
 * {@link EvidenceMissing} naming what is missing.
 */
export function verifyEvidence(request: EvidenceRequest, now: Date = new Date()): Evidence {
  const tools = evidenceTools(request);
  try {
    if (request.publicKey === undefined) throw new EvidenceMissing("no public key to verify with");
    const { sbom, signer } = tools.verify(request.publicKey);
    return collect(tools, request, sbom, signer, now);
  } finally {
    tools.close();
  }
}

function collect(
  tools: ReturnType<typeof evidenceTools>,
  request: EvidenceRequest,
  sbom: string,
  signer: string,
  now: Date,
): Evidence {
  const scan =
    request.database !== undefined ? scanResult(tools, sbom, request.database, now) : undefined;
  return {
    evidenceOf: request.image,
    signed: true,
    signer,
    sbom: tools.sbomFacts(sbom),
    ...(scan !== undefined ? { vulnerabilities: { ...scan, summary: summarize(scan) } } : {}),
  };
}

interface EvidenceInputs extends EvidenceRequest {
  /** Sign here (the stack that builds), or record what the program verified (promotion). */
  mode: "sign" | "verified";
  /** The signing key (secret), when signing. */
  signingKey?: SigningKey;
  /** What the program verified (promotion). */
  verified?: Evidence;
}

/** Signs (builds) or records (promotions); outputs are the {@link Evidence}. */
function produce(inputs: EvidenceInputs): Evidence {
  if (inputs.mode === "verified" && inputs.verified !== undefined) return inputs.verified;
  const tools = evidenceTools(inputs);
  try {
    const sbom = tools.sbom();
    if (inputs.signingKey === undefined) throw new Error("no signing key");
    tools.sign(inputs.signingKey, sbom);
    // With the public key at hand, prove the signature verifies before the Deployment rolls.
    const signer =
      inputs.publicKey !== undefined ? tools.verify(inputs.publicKey).signer : "unverified";
    return collect(tools, inputs, sbom, signer, new Date());
  } finally {
    tools.close();
  }
}

const provider: pulumi.dynamic.ResourceProvider = {
  create(inputs: EvidenceInputs) {
    const evidence = produce(inputs);
    return Promise.resolve({ id: evidence.evidenceOf, outs: { ...inputs, ...evidence } });
  },
  update(_id: string, _olds: EvidenceInputs, news: EvidenceInputs) {
    return Promise.resolve({ outs: { ...news, ...produce(news) } });
  },
  diff(_id: string, olds: EvidenceInputs & Evidence, news: EvidenceInputs) {
    // The same digest keeps its signature and SBOM; a new one (or a new key) is signed again.
    const changes =
      olds.image !== news.image ||
      olds.publicKey !== news.publicKey ||
      olds.database !== news.database ||
      (news.mode === "verified" &&
        JSON.stringify(olds.vulnerabilities?.findings ?? []) !==
          JSON.stringify(news.verified?.vulnerabilities?.findings ?? []));
    return Promise.resolve({ changes, replaces: olds.image !== news.image ? ["image"] : [] });
  },
};

/** Inputs of {@link ImageEvidence}. */
export interface ImageEvidenceArgs {
  /** `<repository>@sha256:...`. */
  image: pulumi.Input<string>;
  /** `sign`: the stack builds and signs; `verified`: the program verified it (promotion). */
  mode: "sign" | "verified";
  /** PEM of the public key. @default none (the signature is not re-verified after signing) */
  publicKey?: string;
  /** Private key and password (secrets), when signing. */
  signingKey?: pulumi.Input<SigningKey>;
  /** What the program verified, when recording a promotion. */
  verified?: Evidence;
  /** Absolute folder of the OSV database. @default none (no scan) */
  database?: string;
  /** Registry user. @default anonymous */
  username?: pulumi.Input<string>;
  /** Registry password (a secret). @default anonymous */
  password?: pulumi.Input<string>;
}

/** A digest's SBOM, signature and scan, signed here or verified before promotion. */
export class ImageEvidence extends pulumi.dynamic.Resource {
  /** The `<repository>@sha256:...` the evidence is about. */
  declare readonly evidenceOf: pulumi.Output<string>;
  /** Whether its signature verified (or was made) with the stack's key. */
  declare readonly signed: pulumi.Output<boolean>;
  /** sha256 of the public key's PEM, or `unverified` when signed without one configured. */
  declare readonly signer: pulumi.Output<string>;
  declare readonly sbom: pulumi.Output<Evidence["sbom"]>;
  declare readonly vulnerabilities: pulumi.Output<Evidence["vulnerabilities"]>;

  constructor(name: string, args: ImageEvidenceArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      {
        ...args,
        ...(args.signingKey !== undefined ? { signingKey: pulumi.secret(args.signingKey) } : {}),
        ...(args.password !== undefined ? { password: pulumi.secret(args.password) } : {}),
        // Output only, set by the provider; a promotion's record is known from the start.
        evidenceOf: args.verified?.evidenceOf,
        signed: args.verified?.signed,
        signer: args.verified?.signer,
        sbom: args.verified?.sbom,
        vulnerabilities: args.verified?.vulnerabilities,
      },
      { ...opts, additionalSecretOutputs: ["signingKey", "password"] },
      "pyfleet",
      "ImageEvidence",
    );
  }
}

/**
 * Set by the offline checks (cli/offlineProgram.ts), which run the program on mocks with
 * placeholder digests: the registry is not asked, and each digest is recorded as the update
 * would record it once verified (the real `preview` and `up` verify).
 */
export const OFFLINE_VARIABLE = "PYFLEET_SUPPLY_CHAIN_OFFLINE";

/** What the verification of promoted digests needs from the stack. */
export interface PromotionChecks {
  /** Apps and the digest each deploys (`<repository>@sha256:...`). */
  images: Readonly<Record<string, string>>;
  /** PEM of the public key; none: the stack has no `pyfleet:signing.publicKey`. */
  publicKey?: string;
  /** Its project path, for messages. */
  publicKeyPath?: string;
  /** OSV database folder, absolute. @default none (no scan) */
  database?: string;
  /** The stack's gate. */
  policy: VulnerabilityPolicy;
  /** Registry login for the tools. @default anonymous */
  username?: string;
  password?: string;
  /** The source stack, for messages. */
  fromStack: string;
}

/**
 * Verifies every promoted digest before anything is registered: its signature and signed SBOM
 * attestation against the public key, and its SBOM against the vulnerability gate. Returns
 * the evidence per app; throws one {@link PromotionRefused} listing every app that fails.
 */
export function verifyPromotedDigests(checks: PromotionChecks, now: Date = new Date()) {
  const evidence: Record<string, Evidence> = {};
  const problems: string[] = [];
  if (checks.publicKey === undefined) return evidence;
  if (process.env[OFFLINE_VARIABLE] === "1") {
    for (const [app, image] of Object.entries(checks.images)) {
      evidence[app] = {
        evidenceOf: image,
        signed: true,
        signer: createHash("sha256").update(checks.publicKey).digest("hex"),
        sbom: { format: "spdx-json", sha256: "", packages: 0 },
      };
    }
    return evidence;
  }
  for (const [app, image] of Object.entries(checks.images)) {
    const digest = image.slice(image.indexOf("@") + 1);
    let found: Evidence;
    try {
      found = verifyEvidence(
        {
          image,
          publicKey: checks.publicKey,
          ...(checks.database !== undefined ? { database: checks.database } : {}),
          ...(checks.username !== undefined ? { username: checks.username } : {}),
          ...(checks.password !== undefined ? { password: checks.password } : {}),
        },
        now,
      );
    } catch (error) {
      if (!(error instanceof EvidenceMissing)) throw error;
      problems.push(
        `app "${app}": ${digest}: ${error.message}; sign it where it is built ` +
          `(pyfleet:signing.key on ${checks.fromStack}'s build stack) with the key whose public ` +
          `half is ${checks.publicKeyPath ?? "pyfleet:signing.publicKey"}, then promote again`,
      );
      continue;
    }
    if (found.vulnerabilities !== undefined) {
      const verdict = judgeScan(found.vulnerabilities, checks.policy, now);
      const refusal = refusalOf(app, digest, verdict, checks.policy);
      if (refusal !== undefined) {
        problems.push(refusal);
        continue;
      }
      for (const { finding, reason, expires } of verdict.excepted) {
        void pulumi.log.warn(
          `app "${app}": ${describeFinding(finding)} let through until ${expires}: ${reason}`,
        );
      }
    }
    evidence[app] = found;
  }
  if (problems.length > 0) {
    throw new PromotionRefused(
      `the supply chain refuses promotion from ${checks.fromStack}; nothing was changed:\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
  }
  return evidence;
}

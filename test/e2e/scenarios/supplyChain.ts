/**
 * The supply chain on the real registry. A key pair made with the README's command; dev
 * signs what it builds and attests its SBOM (checked by hand with cosign too); staging
 * verifies before it deploys. Then prod refuses, before changing anything, an unsigned digest
 * and one whose SBOM carries a blocking advisory (a test build of vectors pins werkzeug 3.0.1,
 * listed in a one-advisory OSV database written here in the real format); an expired
 * exception still refuses, an unexpired one lets it through on record.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { stackSigned, supplyChainPasses, supplyChainRefuses, type AppOut } from "../checks";
import type { CommandRun } from "../checks/observed";
import { fillWheelhouse, goTool, wheelhouseDir, writeOverlayConfig } from "../../../infra/localEnv";
import { PIP_APPS, type Context, type Scenario } from "../lib/context";

const PASSWORD = "e2e-signing-password";
const ADVISORY = "GHSA-2g68-c3qc-8985";
/** A real release the advisory affects (fixed in 3.0.3). */
const VULNERABLE = "werkzeug==3.0.1";
const FIXTURES = path.join(__dirname, "..", "fixtures", "osv");

/** `<work>/osv/<Ecosystem>/all.zip` from the fixture advisories, as the OSV export lays it out. */
function writeDatabase(work: string): string {
  const db = path.join(work, "osv");
  mkdirSync(path.join(db, "PyPI"), { recursive: true });
  execFileSync("python3", [
    "-c",
    "import sys, zipfile, pathlib\n" +
      "src, out = pathlib.Path(sys.argv[1]), sys.argv[2]\n" +
      "with zipfile.ZipFile(out, 'w') as z:\n" +
      "    [z.write(p, p.name) for p in sorted(src.glob('*.json'))]\n",
    path.join(FIXTURES, "PyPI"),
    path.join(db, "PyPI", "all.zip"),
  ]);
  return db;
}

/** A run of a tool outside Pulumi, as a CommandRun. */
function runTool(
  binary: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  input?: string,
  cwd?: string,
): CommandRun {
  const started = Date.now();
  try {
    const stdout = execFileSync(binary, args, {
      env,
      encoding: "utf8",
      ...(input !== undefined ? { input } : {}),
      ...(cwd !== undefined ? { cwd } : {}),
      stdio: ["pipe", "pipe", "pipe"],
      timeout: 300_000,
      // An attestation carries the whole SBOM (megabytes).
      maxBuffer: 256 * 2 ** 20,
    });
    return { status: 0, stdout, output: stdout, seconds: (Date.now() - started) / 1000 };
  } catch (error) {
    const e = error as { status?: number; stdout?: string; stderr?: string; message: string };
    return {
      status: e.status ?? 1,
      stdout: e.stdout ?? "",
      output: `${e.stdout ?? ""}\n${e.stderr ?? e.message}`,
      seconds: (Date.now() - started) / 1000,
    };
  }
}

function imagesOf(apps: Record<string, AppOut>): Record<string, string> {
  return Object.fromEntries(Object.entries(apps).map(([a, o]) => [a, o.image]));
}

/** Sets the signing secrets in `file` with `pulumi config set --secret --path`. */
function setSigningSecrets(ctx: Context, file: string, keyPem: string): void {
  const pulumiBin = path.join(ctx.local.env["PYFLEET_PULUMI_BIN"] ?? "", "pulumi");
  for (const [key, value] of [
    ["pyfleet:signing.key", keyPem],
    ["pyfleet:signing.password", PASSWORD],
  ] as const) {
    const run = runTool(
      pulumiBin,
      ["config", "set", "--secret", "--path", key, "--stack", "dev", "--config-file", file],
      { ...ctx.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
      value,
    );
    if (run.status !== 0) throw new Error(`pulumi config set ${key} failed: ${run.output}`);
  }
}

export const supplyChain: Scenario = {
  name: "supply chain",
  async run(ctx) {
    const { pulumi, recorder, project, work } = ctx;
    const cosign = goTool("cosign");
    goTool("syft");
    goTool("osv-scanner");

    // The key pair, made as the README says: cosign generate-key-pair, the password in
    // COSIGN_PASSWORD; the public half is committed, the private one goes into dev's secrets.
    const keys = path.join(project, "signing");
    mkdirSync(keys, { recursive: true });
    const made = runTool(
      cosign,
      ["generate-key-pair"],
      { ...ctx.env, COSIGN_PASSWORD: PASSWORD },
      undefined,
      keys,
    );
    if (made.status !== 0) throw new Error(`cosign generate-key-pair failed: ${made.output}`);
    const publicPem = readFileSync(path.join(keys, "cosign.pub"), "utf8");
    const signer = createHash("sha256").update(publicPem).digest("hex");
    const database = writeDatabase(work);
    const chain = {
      "pyfleet:signing": { publicKey: "signing/cosign.pub" },
      "pyfleet:vulnerabilities": { database },
    };

    // dev signs what it builds: the same digests, now with signatures and SBOMs.
    const devFile = path.join(work, "config", "dev-signed.yaml");
    writeOverlayConfig(
      "dev",
      devFile,
      { ...ctx.overrides, "pyfleet:apps": { science: { enabled: false } }, ...chain },
      project,
    );
    setSigningSecrets(ctx, devFile, readFileSync(path.join(keys, "cosign.key"), "utf8"));
    const up = await pulumi.up("up dev, signed", "dev", devFile);
    const dev = up.status === 0 ? await pulumi.apps("dev", devFile) : {};
    const crane = ctx.local.env["PYFLEET_CRANE"] ?? "crane";
    const tags: Record<string, string[]> = {};
    const byHand: Record<string, { verify: CommandRun; attestation: CommandRun }> = {};
    for (const app of PIP_APPS) {
      const out = dev[app];
      if (!out) continue;
      tags[app] = runTool(crane, ["--insecure", "ls", out.repository], ctx.env).stdout.split("\n");
      // The README's commands, by hand, offline (an empty trusted root: no TUF refresh).
      const trustedRoot = path.join(work, "trusted_root.json");
      writeFileSync(
        trustedRoot,
        JSON.stringify({ mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1" }),
      );
      const common = [
        "--key",
        path.join(keys, "cosign.pub"),
        "--insecure-ignore-tlog=true",
        "--trusted-root",
        trustedRoot,
      ];
      const offline = ["--allow-http-registry", "--allow-insecure-registry"];
      byHand[app] = {
        verify: runTool(cosign, ["verify", ...common, ...offline, out.image], ctx.env),
        attestation: runTool(
          cosign,
          ["verify-attestation", ...common, ...offline, "--type", "spdxjson", out.image],
          ctx.env,
        ),
      };
    }
    const keyBody = readFileSync(path.join(keys, "cosign.key"), "utf8").split("\n")[1] ?? "";
    recorder.check(stackSigned, "supply chain: dev signs and attests the SBOM of every image", {
      state: await pulumi.exportState("dev"),
      log: readFileSync(path.join(ctx.reports, "pulumi.log"), "utf8"),
      secrets: [keyBody, PASSWORD].filter((s) => s.length > 8),
      stack: "dev",
      up,
      apps: dev,
      names: PIP_APPS,
      tags,
      byHand,
      signer,
    });

    // staging verifies before it deploys.
    const stagingFile = ctx.promoteConfig("staging", chain);
    const staged = await pulumi.up("up staging, verified", "staging", stagingFile);
    const staging = staged.status === 0 ? await pulumi.apps("staging", stagingFile) : {};
    recorder.check(
      supplyChainPasses,
      "supply chain: staging verifies each digest before deploying",
      {
        run: staged,
        app: "vectors",
        apps: staging,
      },
    );

    // prod refuses an unsigned digest: one pushed without dev's key.
    const prodBefore = imagesOf(await pulumi.apps("prod", ctx.promoteConfig("prod")));
    const vectors = dev["vectors"];
    // Nothing to push to without dev's repository (and a bare name would leave loopback).
    if (vectors === undefined) throw new Error("dev exports no vectors after the signed up");
    const unsigned = `${vectors.repository}:e2e-unsigned`;
    const layer = path.join(work, "unsigned.tar");
    execFileSync("tar", ["-cf", layer, "-C", FIXTURES, "PyPI"]);
    const pushed = runTool(crane, ["--insecure", "append", "-f", layer, "-t", unsigned], ctx.env);
    if (pushed.status !== 0) throw new Error(`crane append failed: ${pushed.output}`);
    const unsignedRef = pushed.stdout.trim().split("\n").pop() ?? "";
    const unsignedFile = ctx.promoteConfig("prod", {
      ...chain,
      "pyfleet:images": { rollback: { vectors: unsignedRef } },
    });
    const refusedUnsigned = await pulumi.run("prod, unsigned rollback", [
      "up",
      "prod",
      "--yes",
      "--config-file",
      unsignedFile,
    ]);
    recorder.check(supplyChainRefuses, "supply chain: prod refuses an unsigned digest", {
      run: refusedUnsigned,
      expected: [
        /app "vectors"/,
        new RegExp(unsignedRef.slice(unsignedRef.indexOf("@") + 1, unsignedRef.indexOf("@") + 20)),
        /no signature verifies/,
      ],
      before: prodBefore,
      after: imagesOf(await pulumi.apps("prod", ctx.promoteConfig("prod"))),
    });

    // A vectors build that pins werkzeug 3.0.1 (GHSA-2g68-c3qc-8985, high): dev reports it,
    // staging (refusing at critical) takes it, prod (refusing at high) does not.
    const requirements = path.join(project, "apps", "vectors", "requirements.txt");
    const pristine = readFileSync(requirements, "utf8");
    // The builders install from the local wheelhouse only: it gets the pinned wheel first.
    fillWheelhouse(wheelhouseDir(), [], [VULNERABLE]);
    appendFileSync(requirements, `${VULNERABLE}\n`);
    try {
      const vulnerable = await pulumi.up("up dev, vectors with werkzeug 3.0.1", "dev", devFile);
      const devNow = vulnerable.status === 0 ? await pulumi.apps("dev", devFile) : {};
      recorder.check(
        supplyChainPasses,
        "supply chain: dev builds, signs and reports the advisory",
        {
          run: vulnerable,
          app: "vectors",
          apps: devNow,
          advisory: ADVISORY,
        },
      );
      const stagedAgain = await pulumi.up(
        "up staging, vectors with werkzeug",
        "staging",
        stagingFile,
      );
      const stagingNow = stagedAgain.status === 0 ? await pulumi.apps("staging", stagingFile) : {};
      recorder.check(
        supplyChainPasses,
        "supply chain: staging takes a high advisory below its threshold",
        {
          run: stagedAgain,
          app: "vectors",
          apps: stagingNow,
          advisory: ADVISORY,
        },
      );
      const prodFile = ctx.promoteConfig("prod", chain);
      const digest = stagingNow["vectors"]?.digest ?? "none";
      const refused = await pulumi.run("prod, blocking advisory", [
        "up",
        "prod",
        "--yes",
        "--config-file",
        prodFile,
      ]);
      recorder.check(
        supplyChainRefuses,
        "supply chain: prod refuses a digest with a high advisory",
        {
          run: refused,
          expected: [
            /app "vectors"/,
            new RegExp(digest.slice(0, 19)),
            new RegExp(ADVISORY),
            /werkzeug 3\.0\.1, fixed in 3\.0\.3/,
          ],
          before: prodBefore,
          after: imagesOf(await pulumi.apps("prod", ctx.promoteConfig("prod"))),
        },
      );
      // prod's settings with the advisory excepted until `expires`.
      const prodExcepting = (expires: string) =>
        ctx.promoteConfig("prod", {
          ...chain,
          "pyfleet:vulnerabilities": {
            database,
            exceptions: { [ADVISORY]: { reason: "e2e: the debugger is never on", expires } },
          },
        });
      const expired = await pulumi.run("prod, expired exception", [
        "preview",
        "prod",
        "--config-file",
        prodExcepting("2020-01-31"),
      ]);
      recorder.check(supplyChainRefuses, "supply chain: an expired exception still refuses", {
        run: expired,
        expected: [new RegExp(ADVISORY), /exception expired on 2020-01-31/],
        before: prodBefore,
        after: imagesOf(await pulumi.apps("prod", ctx.promoteConfig("prod"))),
      });
      const excepted = prodExcepting("2099-12-31");
      const taken = await pulumi.up("up prod, excepted advisory", "prod", excepted);
      recorder.check(
        supplyChainPasses,
        "supply chain: prod takes it under an unexpired exception",
        {
          run: taken,
          app: "vectors",
          apps: taken.status === 0 ? await pulumi.apps("prod", excepted) : {},
          advisory: ADVISORY,
        },
      );
    } finally {
      writeFileSync(requirements, pristine);
    }
  },
};

import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { CRANE_VARIABLE } from "../../components/crane";
import { putTag } from "../../components/registryTag";

const dir = mkdtempSync(path.join(tmpdir(), "pyfleet-crane-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => delete process.env[CRANE_VARIABLE]);

const DIGEST = `sha256:${"d".repeat(64)}`;

/** A crane that logs its arguments and the docker config it sees, and answers `digest`. */
function fakeCrane(digest: string): void {
  const file = path.join(dir, "crane");
  writeFileSync(
    file,
    `#!/bin/sh\necho "$@" >> ${dir}/calls\n` +
      `[ -n "$DOCKER_CONFIG" ] && cat "$DOCKER_CONFIG/config.json" >> ${dir}/configs && echo >> ${dir}/configs\n` +
      `case " $* " in *" digest "*) echo ${digest} ;; esac\n`,
  );
  chmodSync(file, 0o755);
  rmSync(path.join(dir, "calls"), { force: true });
  rmSync(path.join(dir, "configs"), { force: true });
  process.env[CRANE_VARIABLE] = file;
}

describe("RegistryTag through crane", () => {
  it("tags registry-side by digest and checks the tag resolves to it", async () => {
    fakeCrane(DIGEST);
    await putTag({ repository: "127.0.0.1:5000/pyfleet/vectors", digest: DIGEST, tag: "staging" });
    expect(readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n")).toEqual([
      `--insecure tag 127.0.0.1:5000/pyfleet/vectors@${DIGEST} staging`,
      "--insecure digest 127.0.0.1:5000/pyfleet/vectors:staging",
    ]);
  });

  it("uses TLS off loopback, and explicit credentials only through a private config", async () => {
    fakeCrane(DIGEST);
    const caller = process.env["DOCKER_CONFIG"];
    await putTag({
      repository: "registry.example.com/team/vectors",
      digest: DIGEST,
      tag: "prod",
      username: "ci",
      password: "s3cret",
    });
    expect(readFileSync(path.join(dir, "calls"), "utf8")).not.toContain("--insecure");
    const configs = readFileSync(path.join(dir, "configs"), "utf8").trim().split("\n");
    expect(configs.map((c) => JSON.parse(c) as unknown)).toEqual([
      { auths: { "registry.example.com": { auth: Buffer.from("ci:s3cret").toString("base64") } } },
      { auths: { "registry.example.com": { auth: Buffer.from("ci:s3cret").toString("base64") } } },
    ]);
    expect(process.env["DOCKER_CONFIG"]).toBe(caller);
  });

  it("refuses a tag the registry resolves to another digest", async () => {
    fakeCrane(`sha256:${"e".repeat(64)}`);
    await expect(
      putTag({ repository: "127.0.0.1:5000/pyfleet/vectors", digest: DIGEST, tag: "staging" }),
    ).rejects.toThrow(/stored 127.0.0.1:5000\/pyfleet\/vectors:staging as sha256:e+, expected/);
  });
});

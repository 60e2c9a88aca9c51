/**
 * components/supplyChain.ts runs inside a dynamic provider: Pulumi must be able to serialize
 * what the provider calls, the way `pulumi up` does (a closure the serializer cannot capture
 * fails every signed update).
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { ImageEvidence, evidenceTools, verifyEvidence } from "../../components/supplyChain";

describe("the supply chain's dynamic provider", () => {
  it("serializes the functions it calls", async () => {
    for (const fn of [evidenceTools, verifyEvidence]) {
      const serialized = await pulumi.runtime.serializeFunction(fn);
      expect(serialized.text).toContain("exports.handler");
    }
    expect(ImageEvidence).toBeDefined();
  });

  it("names the tool to build when one is missing", () => {
    const saved = process.env["PYFLEET_COSIGN"];
    process.env["PYFLEET_COSIGN"] = "/nonexistent/cosign";
    const tools = evidenceTools({ image: `127.0.0.1:5000/pyfleet/x@sha256:${"a".repeat(64)}` });
    try {
      expect(() => tools.verify("-----BEGIN PUBLIC KEY-----\n")).toThrow(
        /cosign is not installed: build it with `bash infra\/go-tools.sh cosign`.*PYFLEET_COSIGN/,
      );
    } finally {
      tools.close();
      if (saved === undefined) delete process.env["PYFLEET_COSIGN"];
      else process.env["PYFLEET_COSIGN"] = saved;
    }
  });
});

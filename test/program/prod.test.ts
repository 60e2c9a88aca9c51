import { beforeAll, describe, expect, it } from "vitest";
import { ofType, stackFileConfig } from "../support/mocks";
import { promotedStackSuite } from "../support/promotedStack";
import { runProgram, type ProgramRun } from "../support/program";
import { checklistSuite, manifestToolSuite } from "../support/checklist";
import { writeManifests } from "../support/manifests";
import { devOutputs } from "../support/fixtures";

let run: ProgramRun;
let manifestDir = "";
const source = devOutputs("staging");

beforeAll(async () => {
  run = await runProgram({
    stack: "prod",
    config: stackFileConfig("prod"),
    stackOutputs: { "organization/pyfleet/staging": { apps: source } },
  });
  manifestDir = writeManifests("prod", run.recorded);
});

promotedStackSuite("prod", "staging", source, () => run, {
  "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": 3,
});

describe("prod specifics", () => {
  it("leaves the replica count to an HPA of 3 to 10 pods", () => {
    const hpas = ofType(run.recorded, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler");
    for (const d of ofType(run.recorded, "kubernetes:apps/v1:Deployment")) {
      expect((d.inputs as { spec: { replicas?: number } }).spec.replicas).toBeUndefined();
      const hpa = hpas.find((h) => h.name === d.name)!;
      expect(hpa.inputs["spec"]).toMatchObject({ minReplicas: 3, maxReplicas: 10 });
    }
  });

  it("serves public hosts over TLS issued by cert-manager", () => {
    for (const ing of ofType(run.recorded, "kubernetes:networking.k8s.io/v1:Ingress")) {
      const inputs = ing.inputs as {
        metadata: { annotations: Record<string, string> };
        spec: { rules: { host: string }[]; tls: { hosts: string[]; secretName: string }[] };
      };
      expect(inputs.spec.rules[0]!.host).toBe(`${ing.name}.example.com`);
      expect(inputs.spec.tls).toEqual([
        { hosts: [`${ing.name}.example.com`], secretName: `${ing.name}-tls` },
      ]);
      expect(inputs.metadata.annotations["cert-manager.io/cluster-issuer"]).toBe(
        "letsencrypt-prod",
      );
    }
  });
});

checklistSuite("prod", () => run);
manifestToolSuite("prod", () => manifestDir);

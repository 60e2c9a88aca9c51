import { beforeAll, describe, expect, it } from "vitest";
import { checklistSuite, manifestToolSuite } from "../support/checklist";
import { devOutputs } from "../support/fixtures";
import { writeManifests } from "../support/manifests";
import { ofType, stackFileConfig } from "../support/mocks";
import { promotedStackSuite } from "../support/promotedStack";
import { runProgram, type ProgramRun } from "../support/program";

let run: ProgramRun;
let manifestDir = "";
const source = devOutputs();

beforeAll(async () => {
  run = await runProgram({
    stack: "staging",
    config: stackFileConfig("staging"),
    stackOutputs: { "organization/pyfleet/dev": { apps: source } },
  });
  manifestDir = writeManifests("staging", run.recorded);
});

promotedStackSuite("staging", "dev", source, () => run);

describe("staging specifics", () => {
  it("runs two replicas of every app", () => {
    for (const d of ofType(run.recorded, "kubernetes:apps/v1:Deployment")) {
      expect((d.inputs as { spec: { replicas: number } }).spec.replicas).toBe(2);
    }
  });
});

checklistSuite("staging", () => run);
manifestToolSuite("staging", () => manifestDir);

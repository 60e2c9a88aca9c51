import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { rebuildLines, rebuildsOf, recordNow } from "../../cli/rebuilds";
import { summarisePreview } from "../../ci/previewSummary";
import type { AppOutput } from "../../model/promotion";
import { offlineSettings } from "../../stacks/offline";
import { sourceRepositoryUrl } from "../../stacks/projectFiles";
import type { Settings } from "../../stacks/types";

const ROOT = path.resolve(__dirname, "..", "..");
let settings: Settings;
/** dev's outputs as an `up` of this very tree would leave them. */
let outputs: Record<string, AppOutput>;

beforeAll(() => {
  process.env["PYFLEET_LOCAL_SETTINGS"] = "none";
  settings = offlineSettings("dev", ROOT);
  const sourceUrl = sourceRepositoryUrl(ROOT);
  outputs = Object.fromEntries(
    settings.apps.map((app) => {
      return [app.name, { build: recordNow(settings, ROOT, app, sourceUrl) } as AppOutput];
    }),
  );
});

describe("rebuilds in a preview", () => {
  it("says no app rebuilds when the tree is what the last up built", () => {
    expect(rebuildsOf(settings, ROOT, outputs)).toEqual({
      dashboard: [],
      vectors: [],
      science: [],
    });
    expect(rebuildLines(rebuildsOf(settings, ROOT, outputs))).toEqual([
      "Images:",
      "  dashboard: no rebuild (build key unchanged)",
      "  vectors: no rebuild (build key unchanged)",
      "  science: no rebuild (build key unchanged)",
    ]);
  });

  it("names the package that moved since the last up, and first builds", () => {
    const vectors = outputs["vectors"]!;
    const older = {
      ...outputs,
      vectors: {
        ...vectors,
        build: {
          ...vectors.build!,
          key: "older",
          dependencies: { ...vectors.build!.dependencies, numpy: "1.26.4" },
        },
      },
    };
    const withoutDashboard = Object.fromEntries(
      Object.entries(older).filter(([app]) => app !== "dashboard"),
    );
    const rebuilds = rebuildsOf(settings, ROOT, withoutDashboard);
    expect(rebuilds["vectors"]).toEqual(["dependencies: numpy 1.26.4 -> 2.4.6"]);
    expect(rebuilds["dashboard"]).toEqual(["first build (no earlier build recorded)"]);
    expect(summarisePreview("dev", { steps: [], rebuilds })).toContain(
      "**Image builds**\n\n- dashboard: rebuilds because first build (no earlier build recorded)\n" +
        "- vectors: rebuilds because dependencies: numpy 1.26.4 -> 2.4.6\n" +
        "- science: no rebuild (build key unchanged)\n",
    );
  });

  it("has nothing to say for a stack that promotes", () => {
    expect(rebuildsOf(offlineSettings("staging", ROOT), ROOT, undefined)).toEqual({});
  });
});

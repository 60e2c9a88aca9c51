/**
 * Stack outputs of a source environment, as a StackReference would return them.
 */
import type { AppOutput } from "../../model/promotion";
import { fakeDigest } from "./mocks";

/** Outputs dev would export after building the three example apps. */
export function devOutputs(stack = "dev"): Record<string, AppOutput> {
  const app = (name: string, version: string): AppOutput => ({
    image: `localhost:5000/pyfleet/${name}@${fakeDigest(name)}`,
    digest: fakeDigest(name),
    repository: `localhost:5000/pyfleet/${name}`,
    version,
    revision: "89abcdef0123456789abcdef0123456789abcdef",
    tags: [`localhost:5000/pyfleet/${name}:${version}`, `localhost:5000/pyfleet/${name}:${stack}`],
    namespace: `pyfleet-${stack}`,
    source: { stack, kind: stack === "dev" ? "build" : "promotion" },
  });
  return {
    dashboard: app("dashboard", "1.2.0"),
    vectors: app("vectors", "0.3.1"),
    science: app("science", "0.9.0"),
  };
}

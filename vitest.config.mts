import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**", "node_modules/**"],
    // Whole-program tests import the program once per file with their own mocks and config.
    isolate: true,
    pool: "forks",
    // Generous: a whole-program run under mocks takes seconds on a busy 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The developer's local engine settings (Pulumi.<stack>.local.yaml) never leak into tests.
    env: { PYFLEET_LOCAL_SETTINGS: "none" },
  },
});

import { defineConfig } from "vitest/config";

export default defineConfig({
  // Workspace packages load from their TypeScript sources (the `@htcemu/source` export condition, then vitest's
  // defaults for servers): tests never need a build.
  ssr: { resolve: { conditions: ["@htcemu/source", "node", "development|production"] } },
  test: {
    include: ["test/**/*.test.ts"],
    // Some files spawn an emulator and send real traffic through the proxy; under a full `pnpm test` the other
    // packages' suites share the two cores, so the default 5 s per test is not enough.
    testTimeout: 90_000,
    hookTimeout: 90_000,
  },
});

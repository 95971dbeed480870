import { defineConfig } from "vitest/config";

export default defineConfig({
  // Workspace packages load from their TypeScript sources (the `@htcemu/source` export condition, then vitest's
  // defaults for servers): tests never need a build.
  ssr: { resolve: { conditions: ["@htcemu/source", "node", "development|production"] } },
  test: {
    include: ["test/**/*.test.ts"],
    // Under a full `pnpm test` the other packages' suites, builds and installs share the two cores: the heavier
    // tests here (250 000 jobs through submitJobs) need more than the default 5 s.
    testTimeout: 30_000,
  },
});

import { defineConfig } from "vitest/config";

export default defineConfig({
  // Workspace packages load from their TypeScript sources (the `@htcemu/source` export condition, then vitest's
  // defaults for servers): tests need no build of them, only the dashboard's own dist/ (turbo builds it first).
  ssr: { resolve: { conditions: ["@htcemu/source", "node", "development|production"] } },
  test: {
    include: ["test/**/*.test.ts"],
    // The end-to-end suite starts an emulator process and a browser, and runs 1,000 simulated jobs.
    testTimeout: 60_000,
    hookTimeout: 90_000,
    fileParallelism: false,
  },
});

import { defineConfig } from "vitest/config";

export default defineConfig({
  // Workspace packages load from their TypeScript sources (the `@htcemu/source` export condition, then vitest's
  // defaults for servers): tests never need a build.
  ssr: { resolve: { conditions: ["@htcemu/source", "node", "development|production"] } },
  test: {
    include: ["test/**/*.test.ts"],
    // Every test runs the real `htc` in a child process against an emulator started by the test file.
    testTimeout: 90_000,
    hookTimeout: 90_000,
  },
});

import { defineConfig } from "vitest/config";

export default defineConfig({
  // Workspace packages load from their TypeScript sources (the `@htcemu/source` export condition, then vitest's
  // defaults for servers): tests never need a build.
  ssr: { resolve: { conditions: ["@htcemu/source", "node", "development|production"] } },
  test: {
    include: ["test/**/*.test.ts"],
    // The tests run the bundled htcctl in child processes (and in containers) against emulators they start.
    testTimeout: 90_000,
    hookTimeout: 90_000,
  },
});

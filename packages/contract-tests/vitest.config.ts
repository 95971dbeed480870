import { defineConfig } from "vitest/config";

export default defineConfig({
  // Workspace packages load from their TypeScript sources (the `@htcemu/source` export condition, then vitest's
  // defaults for servers): tests never need a build.
  ssr: { resolve: { conditions: ["@htcemu/source", "node", "development|production"] } },
  test: {
    include: ["test/**/*.test.ts"],
    // Each file starts its own emulator (or talks to a remote target): generous time limits, and one file at a
    // time so the emulators do not compete for the CPU with each other (the bad-input budget is wall-clock time).
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
